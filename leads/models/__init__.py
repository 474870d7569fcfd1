"""Leads app models, one module per area: customers, leads, the conversation."""

from .appointments import BLOCKING_STATUSES, Appointment, AppointmentEvent, AppointmentNotice, WorkingHours
from .audit import AuditEntry, CustomerMerge
from .consent import ConsentAction, ConsentBasis, ConsentChannel, ConsentRecord
from .contacts import CustomerEmail, CustomerPhone, Household
from .customers import Customer, Language, PreferredChannel, customer_label
from .followup import FollowUpEnrollment, FollowUpPlan, FollowUpStep, FollowUpStepRun, StopReason
from .history import CustomerHistoryItem, DealType, HistoryKind
from .imports import CustomerImport
from .leads import InquiryType, Lead, LeadEvent, LeadStatus, LeadVehicle, VehicleInterest
from .loyalty import LoyaltyKind, LoyaltyRule, Task
from .mail import ForwardedMail, InboundMail, InboundOutcome, InboundStatus, Mailbox
from .messages import Attachment, Channel, Direction, Message
from .routing import MailKind, RoutingRule
from .stats import LeadHourStats
from .templates import ReplyTemplate

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
    "Appointment",
    "AppointmentEvent",
    "AppointmentNotice",
    "BLOCKING_STATUSES",
    "FollowUpEnrollment",
    "FollowUpPlan",
    "FollowUpStep",
    "FollowUpStepRun",
    "StopReason",
    "WorkingHours",
    "Attachment",
    "Channel",
    "Direction",
    "Message",
    "Customer",
    "customer_label",
    "ForwardedMail",
    "InboundMail",
    "InboundOutcome",
    "InboundStatus",
    "InquiryType",
    "Language",
    "Lead",
    "LeadEvent",
    "LeadHourStats",
    "LeadStatus",
    "LeadVehicle",
    "MailKind",
    "Mailbox",
    "PreferredChannel",
    "RoutingRule",
    "ReplyTemplate",
    "VehicleInterest",
]
