"""Writes of the leads app, one module per area (leads, customers, mail, ...)."""
