"""Reads for promotions: lists, the calendar and its overlaps, audiences, results."""

import calendar as pycalendar
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import combinations

from django.db.models import Count, Exists, F, Max, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone

from inventory.models import Vehicle
from inventory.selectors import vehicle_public_list
from leads.models import Appointment, ConsentAction, ConsentChannel, ConsentRecord, Customer, Lead, LeadStatus
from leads.models.history import CustomerHistoryItem, DealType, HistoryKind
from leads.models.leads import LEADS_COUNTED
from leads.selectors.leads import lead_visible_to

from .links import LEAFLET_SRC_PREFIX
from .models import (
    Campaign,
    CampaignRecipient,
    CampaignStatus,
    InfoShare,
    Promotion,
    PromotionModel,
    PromotionStatus,
    RecipientStatus,
    SourceVisit,
)
from .pricing import fee_label

# A tracking code as it appears in a subject or a message: six letters and digits on their own.
CODE_TOKEN = re.compile(r"\b[0-9A-Za-z]{6}\b")


def tracking_code_normalize(text: str) -> str:
    """Crockford's reading: O is zero, I and L are one, case does not matter."""
    return text.upper().replace("O", "0").replace("I", "1").replace("L", "1")


def promotion_for_text(text: str) -> Promotion | None:
    """The promotion whose tracking code is quoted in this text (a subject, comments), if any."""
    codes = {tracking_code_normalize(token) for token in CODE_TOKEN.findall(text or "")}
    if not codes:
        return None
    found = Promotion.objects.filter(tracking_code__in=codes)
    # A running promotion first, then the most recent.
    return (
        sorted(found, key=lambda p: (p.status != PromotionStatus.RUNNING, -p.starts_on.toordinal()))[0]
        if found
        else None
    )


def promotion_for_src(src: str) -> Promotion | None:
    """The promotion a source code names exactly: its leaflet's (leaflet-<tracking code>), whose QR
    code may open the general offers page."""
    code = src.removeprefix(LEAFLET_SRC_PREFIX)
    if code == src or not code:
        return None
    return Promotion.objects.filter(tracking_code=tracking_code_normalize(code)).first()


def promotion_list(*, filters: dict | None = None) -> QuerySet[Promotion]:
    filters = filters or {}
    promotions = Promotion.objects.select_related("department").prefetch_related("models")
    # The address can be edited by hand: anything but a status (a NUL PostgreSQL refuses) is ignored.
    if (status := filters.get("status")) in PromotionStatus.values:
        promotions = promotions.filter(status=status)
    return promotions.order_by("-starts_on", "name")


def promotion_stock(*, promotion: Promotion, limit: int = 24) -> list[Vehicle]:
    """What the landing page shows: the stock vehicles it names, then in-stock vehicles of its models."""
    named = list(vehicle_public_list().filter(promotions=promotion))
    coverage = Q(pk__in=[])
    for covered in promotion.models.all():
        match = Q(make__iexact=covered.make)
        if covered.model:
            match &= Q(model__iexact=covered.model)
        if covered.year:
            match &= Q(year=covered.year)
        coverage |= match
    matching = vehicle_public_list().filter(coverage).exclude(pk__in=[v.pk for v in named])
    return (named + list(matching[:limit]))[:limit]


def _running_today() -> QuerySet[Promotion]:
    """Running promotions whose dates include today: one past its end stays running until the
    calendar's daily move ends it, and is no longer offered meanwhile."""
    today = timezone.localdate()
    return Promotion.objects.filter(status=PromotionStatus.RUNNING, starts_on__lte=today, ends_on__gte=today)


def promotion_running_get(*, slug: str) -> Promotion:
    """The promotion whose public landing page this is: running, on a channel with a landing page."""
    promotion = _running_today().prefetch_related("models").get(landing_slug=slug)
    if not promotion.has_landing_page:
        raise Promotion.DoesNotExist
    return promotion


def promotion_ended_get(*, slug: str) -> Promotion:
    """An ended promotion that had a public landing page (or one past its end that the daily move has
    not ended yet): its leaflets and links are still about. With `ended_on`: its end date, or the
    day it was ended, when that was earlier."""
    ended = Q(status=PromotionStatus.ENDED) | Q(
        status=PromotionStatus.RUNNING, ends_on__lt=timezone.localdate()
    )
    promotion = Promotion.objects.filter(ended).get(landing_slug=slug)
    if not promotion.has_landing_page:
        raise Promotion.DoesNotExist
    ended_at = (
        promotion.events.filter(type="status_changed", params__to_status=PromotionStatus.ENDED)
        .values_list("created_at", flat=True)
        .first()
    )
    promotion.ended_on = (
        min(promotion.ends_on, timezone.localdate(ended_at)) if ended_at else promotion.ends_on
    )
    return promotion


def promotions_running_internet() -> list[Promotion]:
    running = _running_today().filter(is_advertising=False).order_by("ends_on")
    return [promotion for promotion in running if promotion.is_internet]


def promotions_between(*, start: date, end: date) -> QuerySet[Promotion]:
    """Every promotion and advertising campaign, all departments, active at some day of [start, end]."""
    return (
        Promotion.objects.filter(starts_on__lte=end, ends_on__gte=start)
        .select_related("department")
        .prefetch_related("models", "vehicles")
        .order_by("starts_on", "name")
    )


@dataclass
class Overlap:
    kind: str  # "models" or "customers"
    first: object
    second: object
    detail: str


def _covers_same(a: PromotionModel, b: PromotionModel) -> bool:
    if a.make.strip().lower() != b.make.strip().lower():
        return False
    if a.model and b.model and a.model.strip().lower() != b.model.strip().lower():
        return False
    return not (a.year and b.year and a.year != b.year)


def _narrower(a: PromotionModel, b: PromotionModel) -> PromotionModel:
    """Of two coverages of the same vehicles, the more precise: what both promotions really share."""
    return max((a, b), key=lambda m: (bool(m.model), bool(m.year)))


def _periods_overlap(a: Promotion, b: Promotion) -> bool:
    return a.starts_on <= b.ends_on and b.starts_on <= a.ends_on


def _coverage(promotion: Promotion) -> list[PromotionModel]:
    """The makes/models a promotion covers, its named stock vehicles included."""
    return list(promotion.models.all()) + [
        PromotionModel(make=v.make, model=v.model, year=v.year) for v in promotion.vehicles.all() if v.make
    ]


def model_overlaps(promotions) -> list[Overlap]:
    """Pairs of promotions on the same make/model at the same time: offers that may contradict."""
    coverage = {promotion.pk: _coverage(promotion) for promotion in promotions}
    found = []
    for a, b in combinations(promotions, 2):
        if not _periods_overlap(a, b):
            continue
        shared = sorted(
            {str(_narrower(ma, mb)) for ma in coverage[a.pk] for mb in coverage[b.pk] if _covers_same(ma, mb)}
        )
        if shared:
            found.append(Overlap("models", a, b, ", ".join(shared)))
    return found


def campaign_audience(*, filters: dict, today: date | None = None) -> QuerySet[Customer]:
    """Customers chosen by what they bought or lease (history or sold leads), lease end, language."""
    customers = Customer.objects.exclude(email="").filter(merged_into=None)
    make, model = (filters.get("make") or "").strip(), (filters.get("model") or "").strip()
    if make or model:
        sold = Lead.objects.filter(status=LeadStatus.SOLD)
        owned = CustomerHistoryItem.objects.filter(kind__in=[HistoryKind.PURCHASE, HistoryKind.LEASE])
        for value, lead_field in ((make, "vehicles__make__iexact"), (model, "vehicles__model__iexact")):
            if value:
                sold = sold.filter(**{lead_field: value})
                owned = owned.filter(vehicle__iregex=rf"(^|\s){re.escape(value)}(\s|$)")
        customers = customers.filter(
            Q(pk__in=sold.values("customer_id")) | Q(pk__in=owned.values("customer_id"))
        )
    if days := filters.get("lease_ending_within_days"):
        today = today or timezone.localdate()
        leases = CustomerHistoryItem.objects.filter(
            Q(kind=HistoryKind.LEASE) | Q(deal_type=DealType.LEASE),
            term_ends_on__range=(today, today + timedelta(days=int(days))),
        )
        customers = customers.filter(pk__in=leases.values("customer_id"))
    if language := filters.get("language"):
        customers = customers.filter(language=language)
    return customers.order_by("pk")


def campaigns_between(*, start: date, end: date) -> QuerySet[Campaign]:
    """Every email campaign sent on a day of [start, end]."""
    return (
        Campaign.objects.filter(send_on__range=(start, end))
        .select_related("promotion")
        .order_by("send_on", "pk")
    )


def _campaign_customer_ids(campaigns: list[Campaign]) -> dict[int, set[int]]:
    """Each campaign's customers: its recipients once started, else whom its audience filters choose."""
    customer_ids: dict[int, set[int]] = {campaign.pk: set() for campaign in campaigns}
    recipients = CampaignRecipient.objects.filter(campaign__in=campaigns).values_list(
        "campaign_id", "customer_id"
    )
    for campaign_id, customer_id in recipients:
        customer_ids[campaign_id].add(customer_id)
    for campaign in campaigns:
        if not customer_ids[campaign.pk]:
            customer_ids[campaign.pk] = set(
                campaign_audience(filters=campaign.audience).values_list("pk", flat=True)
            )
    return customer_ids


def campaign_overlaps(campaigns: list[Campaign]) -> list[Overlap]:
    """Pairs of these email campaigns sent the same week whose audiences share customers."""
    audiences = _campaign_customer_ids(campaigns)
    found = []
    for a, b in combinations(campaigns, 2):
        if a.send_on.isocalendar()[:2] != b.send_on.isocalendar()[:2]:
            continue
        shared = audiences[a.pk] & audiences[b.pk]
        if shared:
            found.append(Overlap("customers", a, b, f"{len(shared)} customer(s) in both audiences"))
    return found


@dataclass
class CalendarDay:
    day: date
    in_period: bool
    promotions: list = field(default_factory=list)
    campaigns: list = field(default_factory=list)


@dataclass
class PromotionCalendar:
    view: str
    start: date
    end: date
    previous: date
    next: date
    weeks: list[list[CalendarDay]]
    overlaps: list[Overlap]
    flagged_ids: set[int]
    starting: list[Promotion]
    ending: list[Promotion]


def promotion_calendar(*, view: str, anchor: date, today: date) -> PromotionCalendar:
    """The month or week around `anchor` as a grid of weeks, with overlaps and the webmaster's week."""
    if view == "week":
        start = anchor - timedelta(days=anchor.weekday())
        end = start + timedelta(days=6)
        grid_start, grid_end = start, end
        previous, following = start - timedelta(days=7), start + timedelta(days=7)
    else:
        view = "month"
        start = anchor.replace(day=1)
        end = start.replace(day=pycalendar.monthrange(start.year, start.month)[1])
        grid_start = start - timedelta(days=start.weekday())
        grid_end = end + timedelta(days=6 - end.weekday())
        previous = (start - timedelta(days=1)).replace(day=1)
        following = end + timedelta(days=1)
    promotions = list(promotions_between(start=grid_start, end=grid_end))
    # The grid holds whole weeks, so every pair of campaigns sent the same week is in it.
    campaigns = list(campaigns_between(start=grid_start, end=grid_end))
    overlaps = model_overlaps(promotions) + campaign_overlaps(campaigns)
    flagged = {o.first.pk for o in overlaps if o.kind == "models"} | {
        o.second.pk for o in overlaps if o.kind == "models"
    }
    days = []
    day = grid_start
    while day <= grid_end:
        days.append(
            CalendarDay(
                day=day,
                in_period=start <= day <= end,
                promotions=[p for p in promotions if p.starts_on <= day <= p.ends_on],
                campaigns=[c for c in campaigns if c.send_on == day],
            )
        )
        day += timedelta(days=1)
    week_start = today - timedelta(days=today.weekday())
    week_end = week_start + timedelta(days=6)
    this_week = Promotion.objects.select_related("department").order_by("starts_on")
    return PromotionCalendar(
        view=view,
        start=start,
        end=end,
        previous=previous,
        next=following,
        weeks=[days[i : i + 7] for i in range(0, len(days), 7)],
        overlaps=overlaps,
        flagged_ids=flagged,
        starting=list(this_week.filter(starts_on__range=(week_start, week_end))),
        ending=list(this_week.filter(ends_on__range=(week_start, week_end))),
    )


def promotion_results(*, promotion: Promotion, user) -> dict:
    """What the promotion's page shows beside its own fields: its fees by label, email campaigns and
    timeline, the leads it brought and its sales among them, their appointments, and the visits its
    printed and mailed links brought. Everyone sees the figures; only the leads this person may open
    are listed, with their customer and appointments (`leads_shown`)."""
    leads = promotion.leads.filter(LEADS_COUNTED).select_related("customer", "owner").order_by("-received_at")
    visible = lead_visible_to(user=user).values("pk")
    visits = (
        SourceVisit.objects.filter(promotion=promotion)
        .values("src")
        .annotate(total=Sum("count"))
        .order_by("src")
    )
    appointments = (
        Appointment.objects.filter(lead__promotion=promotion, lead__in=visible)
        .select_related("lead__customer", "advisor__user")
        .order_by("starts_at")
    )
    return {
        "fees": [(fee_label(name), fee) for name, fee in (promotion.fees or {}).items()],
        "campaigns": promotion.campaigns.all(),
        "events": promotion.events.select_related("actor"),
        "leads": leads,
        "leads_shown": leads.filter(pk__in=visible),
        "sales": [lead for lead in leads if lead.status == LeadStatus.SOLD],
        "appointments": appointments,
        "visits": list(visits),
    }


def info_share_addresses(share: InfoShare) -> list[str]:
    """Where the information goes, once each: the chosen people's addresses (one without an address
    cannot be told) and the chosen departments' mailboxes."""
    addresses = [member.email for member in share.staff.all() if member.email]
    addresses += [department.forward_email for department in share.departments.all()]
    return sorted({address.lower() for address in addresses})


def info_share_waiting(share: InfoShare) -> list[str]:
    """The addresses the information is still to reach, in the order it goes to them: not those it
    reached, nor those the mail server refused for good."""
    done = {address.lower() for address in [*share.delivered_to, *share.refused]}
    return [address for address in info_share_addresses(share) if address not in done]


def info_shares_recent(*, limit: int = 200) -> list[InfoShare]:
    """The latest information shared with colleagues, with whom it went to; each share's `waiting`
    lists the addresses it is still to reach, its `untold` the people chosen who have no address."""
    shares = list(
        InfoShare.objects.select_related("sent_by").prefetch_related("staff__user", "departments")[:limit]
    )
    for share in shares:
        share.waiting = info_share_waiting(share)
        share.untold = [member for member in share.staff.all() if not member.email]
    return shares


def campaign_report(*, campaign: Campaign) -> dict[str, int]:
    recipients = campaign.recipients
    counts = dict(recipients.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
    first_sent = (
        recipients.filter(status=RecipientStatus.SENT)
        .order_by("sent_at")
        .values_list("sent_at", flat=True)
        .first()
    )
    credited = {"leads": 0, "sales": 0}
    if first_sent:
        # A lead the promotion brought counts for the last of its campaigns that reached that
        # customer before the lead came in: two campaigns of one promotion never both claim it.
        last_reached = (
            CampaignRecipient.objects.filter(
                campaign__promotion=campaign.promotion,
                customer=OuterRef("customer_id"),
                status=RecipientStatus.SENT,
                sent_at__lte=OuterRef("received_at"),
            )
            .order_by("-sent_at", "-pk")
            .values("campaign_id")[:1]
        )
        credited = (
            Lead.objects.filter(LEADS_COUNTED, promotion=campaign.promotion)
            .annotate(campaign_id=Subquery(last_reached))
            .filter(campaign_id=campaign.pk)
            .aggregate(leads=Count("pk"), sales=Count("pk", filter=Q(status=LeadStatus.SOLD)))
        )
    return {
        "queued": counts.get(RecipientStatus.QUEUED, 0),
        "sent": counts.get(RecipientStatus.SENT, 0),
        "skipped": counts.get(RecipientStatus.SKIPPED, 0),
        "failed": counts.get(RecipientStatus.FAILED, 0),
        "bounced": recipients.exclude(bounced_at=None).count(),
        "unsubscribed": ConsentRecord.objects.filter(
            action=ConsentAction.WITHDRAW,
            channel=ConsentChannel.EMAIL,
            customer__in=recipients.filter(status=RecipientStatus.SENT).values("customer_id"),
            given_at__gte=first_sent,
        )
        .values("customer_id")
        .distinct()
        .count()
        if first_sent
        else 0,
        **credited,
    }


def campaign_waiting(*, campaign: Campaign) -> bool:
    """Before its day, or before its promotion runs (its offer page opens), a campaign waits."""
    return campaign.send_on > timezone.localdate() or campaign.promotion.status != PromotionStatus.RUNNING


def campaigns_to_send() -> QuerySet[Campaign]:
    """Sending campaigns with mail still queued whose day is here and whose offer page is open,
    the one served least recently first: campaigns sending at once take turns. A campaign started
    ahead of its day waits for it (campaigns_resume looks every few minutes)."""
    return (
        Campaign.objects.filter(
            status=CampaignStatus.SENDING,
            send_on__lte=timezone.localdate(),
            promotion__status=PromotionStatus.RUNNING,
        )
        .filter(
            Exists(CampaignRecipient.objects.filter(campaign=OuterRef("pk"), status=RecipientStatus.QUEUED))
        )
        .select_related("promotion")
        .annotate(last_claim=Max("recipients__claimed_at"))
        .order_by(F("last_claim").asc(nulls_first=True), "pk")
    )


def campaign_batch_too_soon(*, interval: float) -> bool:
    """Did the store's last campaign batch, whatever the campaign, leave less than `interval`
    seconds ago? Two campaigns sending at once share the steady rate (the mail server's limit is
    the store's, not a campaign's). When two chains of batch tasks run (one resumed beside one
    thought lost), the later of the two finds a claim this recent and ends."""
    last = CampaignRecipient.objects.aggregate(last=Max("claimed_at"))["last"]
    return last is not None and (timezone.now() - last).total_seconds() < interval * 0.9


def campaign_recipients(*, campaign: Campaign) -> QuerySet[CampaignRecipient]:
    return campaign.recipients.select_related("customer").order_by("status", "pk")
