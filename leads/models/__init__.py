"""Leads app models, one module per area: customers, leads and their timeline."""

from .customers import Customer, Language, PreferredChannel
from .leads import InquiryType, Lead, LeadEvent, LeadStatus, LeadVehicle, VehicleInterest

__all__ = [
    "Customer",
    "InquiryType",
    "Language",
    "Lead",
    "LeadEvent",
    "LeadStatus",
    "LeadVehicle",
    "PreferredChannel",
    "VehicleInterest",
]
