"""Leads app models, one module per area: customers, leads, the conversation."""

from .appointments import BLOCKING_STATUSES, Appointment, AppointmentEvent, AppointmentNotice, WorkingHours
from .customers import Customer, Language, PreferredChannel
from .followup import FollowUpEnrollment, FollowUpPlan, FollowUpStep, FollowUpStepRun, StopReason
from .leads import InquiryType, Lead, LeadEvent, LeadStatus, LeadVehicle, VehicleInterest
from .messages import Attachment, Channel, Direction, Message
from .templates import ReplyTemplate

__all__ = [
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
    "InquiryType",
    "Language",
    "Lead",
    "LeadEvent",
    "LeadStatus",
    "LeadVehicle",
    "PreferredChannel",
    "ReplyTemplate",
    "VehicleInterest",
]
