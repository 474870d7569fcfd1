"""Leads app models, one module per area: customers, leads, the conversation."""

from .customers import Customer, Language, PreferredChannel
from .leads import InquiryType, Lead, LeadEvent, LeadStatus, LeadVehicle, VehicleInterest
from .mail import ForwardedMail, InboundMail, InboundOutcome, InboundStatus, Mailbox
from .messages import Attachment, Channel, Direction, Message
from .routing import MailKind, RoutingRule

__all__ = [
    "Attachment",
    "Channel",
    "Direction",
    "Message",
    "Customer",
    "ForwardedMail",
    "InboundMail",
    "InboundOutcome",
    "InboundStatus",
    "InquiryType",
    "Language",
    "Lead",
    "LeadEvent",
    "LeadStatus",
    "LeadVehicle",
    "MailKind",
    "Mailbox",
    "PreferredChannel",
    "RoutingRule",
    "VehicleInterest",
]
