"""Reads for answering: reply templates and the one to suggest for a lead."""

from django.db import transaction
from django.db.models import QuerySet

from dealership.cache_generations import cached_in_generation, generation_next
from dealership.models import oversees_store

from ..language import detect_language
from ..models import FollowUpPlan, InquiryType, Lead, ReplyTemplate
from .leads import TimelineEntry, lead_last_customer_words


def reply_templates(*, active_only: bool = False) -> QuerySet[ReplyTemplate]:
    templates = ReplyTemplate.objects.all()
    return templates.filter(active=True) if active_only else templates


# Every lead page offers the active templates; they change a few times a year, through
# reply_template_save and reply_template_delete, which drop this copy (reply_templates_changed).
ACTIVE_TEMPLATES = "leads:reply-templates"
ACTIVE_TEMPLATES_SECONDS = 600


def reply_template_plans(*, template: ReplyTemplate) -> list[str]:
    """The names of the follow-up plans with a step that sends this template."""
    return list(
        FollowUpPlan.objects.filter(steps__reply_template=template)
        .distinct()
        .order_by("name")
        .values_list("name", flat=True)
    )


def reply_templates_offered() -> list[ReplyTemplate]:
    """The active templates, as the composer offers them (read from the cache)."""
    return cached_in_generation(
        ACTIVE_TEMPLATES, "active", lambda: list(reply_templates(active_only=True)), ACTIVE_TEMPLATES_SECONDS
    )


def reply_templates_changed() -> None:
    """Drop the cached templates now and, for a change still inside a transaction, once it is
    committed (a page read in between would otherwise keep the old ones)."""
    generation_next(ACTIVE_TEMPLATES)
    transaction.on_commit(lambda: generation_next(ACTIVE_TEMPLATES))


def reply_language(*, lead: Lead, timeline: list[TimelineEntry] | None = None) -> str:
    """The language to answer in: the customer's own words decide when they are clear."""
    words = lead_last_customer_words(lead=lead, timeline=timeline)
    return detect_language(words) or lead.language or lead.customer.language


def reply_template_suggested(*, templates, lead: Lead, language: str) -> ReplyTemplate | None:
    """Among the active templates, the one for the lead's kind of inquiry in its language, else
    the general one in that language, else any in that language."""
    candidates = sorted(
        (t for t in templates if t.active and t.language == language), key=lambda t: (t.name, t.pk)
    )
    for inquiry_type in (lead.inquiry_type, InquiryType.GENERAL):
        if match := next((t for t in candidates if t.inquiry_type == inquiry_type), None):
            return match
    return candidates[0] if candidates else None


def can_manage_reply_templates(*, user) -> bool:
    return oversees_store(user)
