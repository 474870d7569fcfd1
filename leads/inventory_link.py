"""The stock vehicles that a lead's vehicles name (by VIN or stock number), read from inventory.

A vehicle that names none has None beside it, and pages show it as the customer described it.
"""

from inventory.selectors import vehicles_find


def lead_vehicles_with_stock(vehicles) -> list[tuple]:
    """Each vehicle beside the stock vehicle its VIN or stock number names (or None), read for all
    of them at once (vehicles_find). A None in `vehicles` (no vehicle) has None beside it."""
    vehicles = list(vehicles)
    stock = vehicles_find([(v.vin, v.stock_number) if v else ("", "") for v in vehicles])
    return list(zip(vehicles, stock, strict=True))


def leads_vehicles_with_stock(leads) -> dict[int, list[tuple]]:
    """lead_vehicles_with_stock for several leads at once (their vehicles prefetched), by lead id."""
    by_lead: dict[int, list[tuple]] = {lead.pk: [] for lead in leads}
    for vehicle, stock in lead_vehicles_with_stock(v for lead in leads for v in lead.vehicles.all()):
        by_lead[vehicle.lead_id].append((vehicle, stock))
    return by_lead


def photo_links(stock_vehicle) -> list[str]:
    """Public photo addresses of a stock vehicle; empty when there is none."""
    return stock_vehicle.photo_urls() if stock_vehicle else []
