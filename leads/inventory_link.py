"""The stock vehicles that a lead's vehicles name (by VIN or stock number), read from inventory.

A vehicle that names none has None beside it, and pages show it as the customer described it.
"""

from inventory.selectors import vehicles_find


def stock_vehicles_for(wanted: list[tuple[str, str]]) -> list:
    """The stock vehicle for each (VIN, stock number) pair, or None; one query for all of them."""
    return vehicles_find(wanted)


def lead_vehicles_with_stock(vehicles) -> list[tuple]:
    """Each of a lead's vehicles beside the stock vehicle its VIN or stock number names (or None)."""
    vehicles = list(vehicles)
    return list(zip(vehicles, stock_vehicles_for([(v.vin, v.stock_number) for v in vehicles]), strict=True))


def photo_links(stock_vehicle) -> list[str]:
    """Public photo addresses of a stock vehicle; empty when there is none."""
    return stock_vehicle.photo_urls() if stock_vehicle else []
