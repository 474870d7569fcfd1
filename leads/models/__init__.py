"""Leads app models, one module per area: customers, leads, the conversation."""

from .audit import AuditEntry, CustomerMerge
from .consent import ConsentAction, ConsentBasis, ConsentChannel, ConsentRecord
from .contacts import CustomerEmail, CustomerPhone, Household
from .customers import Customer, Language, PreferredChannel
from .history import CustomerHistoryItem, DealType, HistoryKind
from .imports import CustomerImport
from .leads import InquiryType, Lead, LeadEvent, LeadStatus, LeadVehicle, VehicleInterest
from .loyalty import LoyaltyKind, LoyaltyRule, Task
from .messages import Attachment, Channel, Direction, Message

__all__ = [
    "AuditEntry",
    "ConsentAction",
    "ConsentBasis",
    "ConsentChannel",
    "ConsentRecord",
    "CustomerEmail",
    "CustomerHistoryItem",
    "CustomerImport",
    "CustomerMerge",
    "CustomerPhone",
    "DealType",
    "HistoryKind",
    "Household",
    "LoyaltyKind",
    "LoyaltyRule",
    "Task",
    "Attachment",
    "Channel",
    "Direction",
    "Message",
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
