"""Leads app models, one module per area: customers, leads, the conversation."""

from .customers import Customer, Language, PreferredChannel
from .leads import InquiryType, Lead, LeadEvent, LeadStatus, LeadVehicle, VehicleInterest
from .messages import Attachment, Channel, Direction, Message
from .routing import MailKind, RoutingRule
from .stats import LeadHourStats
from .templates import ReplyTemplate

__all__ = [
    "Attachment",
    "Channel",
    "Direction",
    "Message",
    "Customer",
    "InquiryType",
    "Language",
    "Lead",
    "LeadEvent",
    "LeadHourStats",
    "LeadStatus",
    "LeadVehicle",
    "MailKind",
    "PreferredChannel",
    "RoutingRule",
    "ReplyTemplate",
    "VehicleInterest",
]
