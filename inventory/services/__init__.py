"""Writes of the inventory app, one module per area (vehicles, photos, imports, inquiries)."""
