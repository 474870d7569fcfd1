"""The stock vehicle a lead's vehicle names, when the inventory app can tell.

Inventory is optional for the leads app: until it offers `inventory.selectors.vehicle_find`,
every lookup answers None and the lead page shows the vehicle as the customer described it.
"""


def stock_vehicle_for(*, vin: str = "", stock_number: str = ""):
    if not (vin or stock_number):
        return None
    try:
        from inventory.selectors import vehicle_find
    except ImportError:
        return None
    return vehicle_find(vin=vin, stock_number=stock_number)


def photo_links(stock_vehicle) -> list[str]:
    """Public photo addresses of a stock vehicle; empty when there is none to show."""
    if stock_vehicle is None:
        return []
    return [url for url in getattr(stock_vehicle, "photo_urls", lambda: [])() if url]
