"""The stock vehicles a lead's vehicles name, when the inventory app can tell.

Inventory is optional for the leads app: until it offers `inventory.selectors.vehicles_find`,
every lookup answers None and the lead page shows the vehicle as the customer described it.
"""


def stock_vehicles_for(wanted: list[tuple[str, str]]) -> list:
    """The stock vehicle for each (VIN, stock number) pair, or None; one query for all of them."""
    try:
        from inventory.selectors import vehicles_find
    except ImportError:
        return [None] * len(wanted)
    return vehicles_find(wanted)


def lead_vehicles_with_stock(vehicles) -> list[tuple]:
    """Each of a lead's vehicles beside the stock vehicle its VIN or stock number names (or None)."""
    vehicles = list(vehicles)
    return list(zip(vehicles, stock_vehicles_for([(v.vin, v.stock_number) for v in vehicles]), strict=True))


def photo_links(stock_vehicle) -> list[str]:
    """Public photo addresses of a stock vehicle; empty when there is none to show."""
    if stock_vehicle is None:
        return []
    return [url for url in getattr(stock_vehicle, "photo_urls", lambda: [])() if url]
