"""Promotions: creation, the status machine, the daily calendar move, attribution of leads."""

import secrets
from datetime import date
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import formats, timezone
from django.utils.translation import gettext, gettext_noop

from dealership import transitions
from leads.models import Lead
from leads.services.leads import customer_find_or_create, form_lead_submit, lead_event_add

from ..models import Promotion, PromotionEvent, PromotionModel, PromotionStatus, SourceVisit
from ..pricing import FEE_LABELS, all_in_price_problems
from ..selectors import promotion_for_text

# The promotion status machine: which status may follow which.
PROMOTION_TRANSITIONS: dict[str, set[str]] = {
    PromotionStatus.DRAFT: {PromotionStatus.SCHEDULED, PromotionStatus.RUNNING},
    PromotionStatus.SCHEDULED: {PromotionStatus.DRAFT, PromotionStatus.RUNNING, PromotionStatus.ENDED},
    PromotionStatus.RUNNING: {PromotionStatus.ENDED},
    PromotionStatus.ENDED: set(),
}
PUBLISHED = {PromotionStatus.SCHEDULED, PromotionStatus.RUNNING}
# Why an edit of the dates changed the status: only a promotion an edit scheduled runs again by one.
DATES_CHANGED = gettext_noop("dates changed")

# Crockford's base 32: no I, L, O, U, so a code read aloud or typed is not mistaken.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 6


class PromotionError(ValueError):
    pass


# Promotions and campaigns refuse a status change with PromotionError.
transition_check = partial(transitions.transition_check, error=PromotionError)


def promotion_event_add(*, promotion: Promotion, type: str, actor=None, **params) -> PromotionEvent:
    return PromotionEvent.objects.create(promotion=promotion, type=type, actor=actor, params=params)


def tracking_code_new() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _models_set(*, promotion: Promotion, models: list[dict]) -> None:
    promotion.models.all().delete()
    PromotionModel.objects.bulk_create(
        PromotionModel(
            promotion=promotion, make=m["make"].strip(), model=m.get("model", "").strip(), year=m.get("year")
        )
        for m in models
        if m.get("make", "").strip()
    )


def promotion_create(*, actor=None, models: list[dict] | None = None, vehicles=(), **fields) -> Promotion:
    """A new draft promotion with a fresh tracking code (drawn again on the rare collision)."""
    for _ in range(5):
        try:
            with transaction.atomic():
                promotion = Promotion(tracking_code=tracking_code_new(), created_by=actor, **fields)
                promotion.full_clean()
                promotion.save()
                _models_set(promotion=promotion, models=models or [])
                promotion.vehicles.set(vehicles)
                promotion_event_add(promotion=promotion, type="created", actor=actor)
                return promotion
        except IntegrityError:
            if Promotion.objects.filter(landing_slug=fields.get("landing_slug")).exists():
                raise
    raise PromotionError("Could not draw a unique tracking code; try again.")


@transaction.atomic
def promotion_update(
    *, promotion: Promotion, actor=None, models: list[dict] | None = None, vehicles=None, **fields
) -> Promotion:
    promotion = Promotion.objects.select_for_update().get(pk=promotion.pk)
    if "fees" in fields:
        # Fees the form does not ask about (set by an import) stay as they are.
        kept = {name: fee for name, fee in (promotion.fees or {}).items() if name not in FEE_LABELS}
        fields["fees"] = kept | fields["fees"]
    for field, value in fields.items():
        setattr(promotion, field, value)
    promotion.full_clean()
    status_by_dates = _status_by_dates(promotion=promotion, today=timezone.localdate())
    if status_by_dates in PUBLISHED:
        promotion_publishable_check(promotion)
    promotion.save()
    if models is not None:
        _models_set(promotion=promotion, models=models)
    if vehicles is not None:
        promotion.vehicles.set(vehicles)
    promotion_event_add(promotion=promotion, type="updated", actor=actor, fields=sorted(fields))
    if status_by_dates != promotion.status:
        _status_set(promotion=promotion, to_status=status_by_dates, actor=actor, reason=DATES_CHANGED)
    return promotion


def _status_by_dates(*, promotion: Promotion, today: date) -> str:
    """Customers read a running promotion as valid today. Its start moved past today, it waits for
    it (scheduled: off the public pages, its campaigns held), and runs again if an edit puts today
    back within its dates. Its end moved into the past, it stays running, off the public pages,
    until the daily move ends it: an edit never ends a promotion, as a typo could not be undone."""
    if promotion.status == PromotionStatus.RUNNING and promotion.starts_on > today:
        return PromotionStatus.SCHEDULED
    if (
        promotion.status == PromotionStatus.SCHEDULED
        and promotion.starts_on <= today <= promotion.ends_on
        and _last_status_reason(promotion=promotion) == DATES_CHANGED
    ):
        return PromotionStatus.RUNNING
    return promotion.status


def _last_status_reason(*, promotion: Promotion) -> str | None:
    return promotion.events.filter(type="status_changed").values_list("params__reason", flat=True).last()


def _status_set(*, promotion: Promotion, to_status: str, actor, reason: str) -> Promotion:
    """Change the status, on the promotion's timeline with who did it and why."""
    from_status = promotion.status
    promotion.status = to_status
    promotion.save(update_fields=["status", "updated_at"])
    promotion_event_add(
        promotion=promotion,
        type="status_changed",
        actor=actor,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
    )
    return promotion


def promotion_price_problems(promotion: Promotion) -> list[str]:
    return all_in_price_problems(
        province=settings.STORE["province"],
        advertised_price=promotion.advertised_price,
        fees=promotion.fees,
        offer_kind=promotion.offer_kind,
    )


def promotion_publishable_check(promotion: Promotion) -> None:
    problems = promotion_price_problems(promotion)
    if problems:
        raise PromotionError(
            gettext("This promotion cannot be published: %(problems)s") % {"problems": " ".join(problems)}
        )


def _dates_allow_or_raise(*, promotion: Promotion, to_status: str, today: date) -> None:
    """Customers read a running promotion as valid today: it runs only between its dates, and one
    that has ended can no longer be scheduled."""
    dates = {
        "start": formats.date_format(promotion.starts_on, "DATE_FORMAT"),
        "end": formats.date_format(promotion.ends_on, "DATE_FORMAT"),
    }
    if to_status in PUBLISHED and promotion.ends_on < today:
        raise PromotionError(
            gettext("This promotion ended on %(end)s: it can no longer be published.") % dates
        )
    if to_status == PromotionStatus.RUNNING and promotion.starts_on > today:
        raise PromotionError(
            gettext("This promotion starts on %(start)s: choose Scheduled, and it will run from that day.")
            % dates
        )


@transaction.atomic
def promotion_transition(
    *, promotion: Promotion, to_status: str, actor=None, reason: str = "", today: date | None = None
) -> Promotion:
    """Move a promotion to another status if the machine allows it; publishing checks the dates
    (against `today`, the store's day by default) and the price first."""
    promotion = Promotion.objects.select_for_update().get(pk=promotion.pk)
    transition_check(
        machine=PROMOTION_TRANSITIONS,
        choices=PromotionStatus,
        refused=gettext("A promotion that is %(from)s cannot become %(to)s."),
        unknown=gettext("A promotion cannot become %(to)s: its statuses are %(known)s."),
        from_status=promotion.status,
        to_status=to_status,
    )
    if to_status in PUBLISHED:
        _dates_allow_or_raise(promotion=promotion, to_status=to_status, today=today or timezone.localdate())
        promotion_publishable_check(promotion)
    return _status_set(promotion=promotion, to_status=to_status, actor=actor, reason=reason)


def promotions_advance(*, today: date | None = None) -> dict[str, int]:
    """The daily move by the calendar: scheduled promotions start, running ones past their end end."""
    today = today or timezone.localdate()
    moved = {"started": 0, "ended": 0}
    due_to_end = Promotion.objects.filter(
        status__in=[PromotionStatus.SCHEDULED, PromotionStatus.RUNNING], ends_on__lt=today
    )
    for promotion in due_to_end:
        promotion_transition(
            promotion=promotion, to_status=PromotionStatus.ENDED, reason=gettext_noop("end date passed")
        )
        moved["ended"] += 1
    due_to_start = Promotion.objects.filter(status=PromotionStatus.SCHEDULED, starts_on__lte=today)
    for promotion in due_to_start:
        try:
            promotion_transition(
                promotion=promotion,
                to_status=PromotionStatus.RUNNING,
                reason=gettext_noop("start date"),
                today=today,
            )
        except PromotionError as error:
            # Rules may have changed since it was scheduled: leave it, with the reason on its timeline.
            promotion_event_add(promotion=promotion, type="start_refused", reason=str(error))
            continue
        moved["started"] += 1
    return moved


@transaction.atomic
def lead_promotion_attribute(
    *, lead: Lead, promotion: Promotion, how: str, src: str = "", actor=None
) -> Lead:
    """Credit a lead to a promotion, once: the first promotion that brought it keeps it."""
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if lead.promotion_id is not None:
        return lead
    lead.promotion = promotion
    lead.save(update_fields=["promotion", "updated_at"])
    lead_event_add(
        lead=lead,
        type="promotion_attributed",
        actor=actor,
        promotion=promotion.tracking_code,
        how=how,
        src=src,
    )
    return lead


def lead_promotion_attribute_from_text(*, lead: Lead, text: str) -> Promotion | None:
    """For the mail pipeline: credit the lead to the promotion whose code its subject or text quotes."""
    promotion = promotion_for_text(text)
    if promotion is not None:
        lead_promotion_attribute(lead=lead, promotion=promotion, how="code quoted")
    return promotion


@transaction.atomic
def public_lead_submit(
    *,
    promotion: Promotion | None,
    first_name: str,
    last_name: str,
    email: str,
    phone: str,
    language: str,
    comments: str,
    vehicle: dict | None = None,
    src: str = "",
    brought_by: Promotion | None = None,
) -> Lead:
    """A lead from a public form: a promotion's landing page, or the general contact form. The
    same form sent again joins the lead it made (form_lead_submit). A lead of the general form is
    credited to the promotion that brought the visitor (`brought_by`: its leaflet, or the old link
    of an ended offer), else to one whose code the comments quote."""
    customer, _ = customer_find_or_create(
        email=email, phone=phone, first_name=first_name, last_name=last_name, language=language
    )
    source = f"Offer {promotion.tracking_code}" if promotion else "Website contact form"
    if src:
        source = f"{source} ({src})"[:100]
    lead, new = form_lead_submit(
        customer=customer,
        source=source,
        inquiry_type="price" if promotion else "general",
        language=language,
        comments=comments,
        vehicles=[vehicle] if vehicle else [],
        promotion=promotion,
    )
    if not new:
        return lead
    lead_event_add(
        lead=lead, type="public_form", src=src, promotion=promotion.tracking_code if promotion else ""
    )
    if promotion is None and brought_by is not None:
        lead = lead_promotion_attribute(lead=lead, promotion=brought_by, how="link", src=src)
    elif promotion is None and (quoted := promotion_for_text(comments)):
        lead = lead_promotion_attribute(lead=lead, promotion=quoted, how="code quoted", src=src)
    return lead


def source_visit_record(*, src: str, promotion: Promotion | None = None, day: date | None = None) -> None:
    """Count one visit of a public page carrying a source code."""
    src = src.strip()[:80]
    if not src:
        return
    day = day or timezone.localdate()
    with transaction.atomic():
        visit, _ = SourceVisit.objects.get_or_create(day=day, src=src, promotion=promotion)
        SourceVisit.objects.filter(pk=visit.pk).update(count=F("count") + 1)
