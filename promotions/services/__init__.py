"""Writes of the promotions app, one module per area (promotions, campaigns, printing, sharing)."""
