"""Reads for leads, scoped to what the person asking may see."""

import hashlib
import math
import re
from dataclasses import dataclass, fields
from datetime import UTC, datetime, time, timedelta, tzinfo
from email.utils import parseaddr

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.db.models import (
    CharField,
    Count,
    Exists,
    Expression,
    ExpressionWrapper,
    F,
    OrderBy,
    OuterRef,
    Q,
    QuerySet,
    Value,
)
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan
from django.db.models.functions import Concat, Right, Upper
from django.utils import timezone

from dealership.cache_generations import cached_in_generation, generation_next
from dealership.models import LEAD_OWNER_ROLES, Role, oversees_store
from dealership.numbers import is_ascii_digits
from inventory.models import Vehicle

from ..business_hours import (
    ClosedDays,
    WeekHours,
    business_minutes_between,
    business_moment_before,
    store_closed_days,
    store_hours,
    store_zone,
)
from ..models import (
    Appointment,
    Attachment,
    Channel,
    Customer,
    CustomerEmail,
    CustomerPhone,
    Direction,
    InboundMail,
    InquiryType,
    Lead,
    LeadEvent,
    LeadStatus,
    LeadVehicle,
    Message,
    Task,
    customer_label,
)
from ..models.leads import (
    FUNNEL_MILESTONES,
    LEAD_STATUS_LABELS,
    LEAD_WAITING_FIRST,
    LEAD_WAITING_SINCE,
    LEADS_COUNTED,
    OPEN_LEAD_STATUSES,
    VIN_TAIL_LENGTH,
    vehicle_wanted_line,
)
from ..models.loyalty import NEXT_STEP
from ..normalize import (
    SOURCE_WEB_ENDING,
    SOURCE_WEB_PREFIX,
    SearchForm,
    normalize_email,
    normalize_phone,
    search_form,
    source_key,
)
from .customers import customers_with_contact

# A customer's name, email and phone as one text, unaccented and in upper case: one "contains" per
# search word, and one trigram index on PostgreSQL (migrations 0003, 0018 and 0031 build it from this
# very expression).
CUSTOMER_SEARCH_TEXT = SearchForm(
    Concat(
        "first_name",
        Value(" "),
        "last_name",
        Value(" "),
        "email",
        Value(" "),
        "phone",
        output_field=CharField(),
    )
)
# Funnel stages the inbox can narrow to, by the milestone each lead keeps.
REACHED_STAGES = {str(stage): field for stage, field in FUNNEL_MILESTONES}
PHONE_LIKE = re.compile(r"[\d\s().+-]+")
EMAIL_LIKE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# An extension after a number ("ext 12", "x12", "poste 12"): the customer's phone is the number.
PHONE_EXTENSION = re.compile(r"\s*(?:ext\.?|extension|x|poste)\s*\d{1,6}\s*$", re.IGNORECASE)
# What people read off a windshield or a deal jacket: the end of a VIN, 6 to 17 of its characters
# (never I, O or Q), with a digit (a name is no VIN).
VIN_END = re.compile(r"(?=.*\d)[A-HJ-NPR-Z0-9]{6,17}", re.IGNORECASE)
# A VIN's last characters, as LeadVehicle indexes them: a VIN's end is looked up on them, then
# checked whole.
VIN_TAIL = Upper(Right("vin", VIN_TAIL_LENGTH))


def _visibility_scope(user) -> str:
    """ "all", "owner" (only leads assigned to them) or "none"."""
    if oversees_store(user):
        return "all"
    staff = getattr(user, "staff", None)
    if staff and staff.role == Role.ADVISOR:
        return "owner"
    return "none"


def sees_every_lead(user) -> bool:
    return _visibility_scope(user) == "all"


def sees_leads(user) -> bool:
    """Whether the inbox is for them: department staff see no lead (see lead_visible_to)."""
    return _visibility_scope(user) != "none"


def lead_visible_to(*, user) -> QuerySet[Lead]:
    """Supervisors, managers and admins see every lead; an advisor only the leads assigned to them,
    those they sold (gone to a colleague for the delivery, say: the sale still counts for them),
    and those with an appointment with them (the customer they are to meet, or met): not one
    cancelled, booked by mistake or called off.

    Department staff see none here: what reaches them is forwarded mail, not leads.
    """
    scope = _visibility_scope(user)
    leads = Lead.objects.all()
    if scope == "all":
        return leads
    if scope == "owner":
        meets = Appointment.objects.filter(lead=OuterRef("pk"), advisor__user=user).exclude(
            status=Appointment.Status.CANCELLED
        )
        return leads.filter(Q(owner=user) | Q(sold_by=user) | Exists(meets))
    return leads.none()


@dataclass(frozen=True)
class ResponseDeadlines:
    """Leads received at or before `late_before` are amber, at or before `overdue_before` red.

    Worked out once per page, with the opening hours and closed days read once, for every row's clock."""

    now: datetime
    late_before: datetime | None
    overdue_before: datetime | None
    hours: WeekHours
    zone: tzinfo
    closed: ClosedDays


def response_deadlines(*, now: datetime | None = None) -> ResponseDeadlines:
    now = now or timezone.now()
    calendar = {"hours": store_hours(), "zone": store_zone(), "closed": store_closed_days()}
    return ResponseDeadlines(
        now=now,
        late_before=business_moment_before(now, settings.RESPONSE_WARNING_MINUTES, **calendar),
        overdue_before=business_moment_before(now, settings.RESPONSE_TARGET_MINUTES, **calendar),
        **calendar,
    )


# Open leads still waiting for their first answer.
WAITING_FOR_ANSWER = Q(status__in=OPEN_LEAD_STATUSES, first_response_at__isnull=True)
# Leads, of any status, whose customer wrote again after an answer and waits for another: a sold
# customer asking about delivery, or a lost one who changed their mind, must be seen too.
CUSTOMER_REPLIED = Q(customer_waiting_since__isnull=False, merged_into__isnull=True)


def lead_list_status(filters: dict) -> str:
    """The status the inbox lists: the one asked for, else every status for "Replied" (a customer
    writes back on a sold or lost lead too), else the open leads."""
    return filters.get("status") or ("all" if filters.get("replied") else "open")


def _overdue_q(deadlines: ResponseDeadlines) -> Q:
    if deadlines.overdue_before is None:
        return Q(pk__in=[])
    return Q(first_response_at__isnull=True, received_at__lte=deadlines.overdue_before)


def _search_word(word: str) -> str:
    return (
        "".join(c for c in word if c.isdigit())
        if PHONE_LIKE.fullmatch(word) and any(map(str.isdigit, word))
        else word
    )


def _customers_with_word(customers: QuerySet[Customer], word: str) -> QuerySet[Customer]:
    """Narrowed to those whose name, email or phone holds the word; a whole number or address is
    looked up among every number and address they have (an index lookup)."""
    if word.isdigit() and len(word) >= 10 and (phone := normalize_phone(word)):
        return customers.filter(pk__in=customers_with_contact("phone", phone).values("pk"))
    if EMAIL_LIKE.fullmatch(word):
        return customers.filter(pk__in=customers_with_contact("email", normalize_email(word)).values("pk"))
    # Punctuation folded as in the stored text, then each part on its own: "marie-eve" finds
    # "Marie Ève", "d'amours" finds "D’Amours".
    holds = Q()
    for part in search_form(word).split():
        holds &= Q(search_text__contains=part)
    return customers.filter(holds)


def _extra_contacts_holding(words: list[str], *, phone_like: bool) -> QuerySet | None:
    """Ids of the customers with part of a number, or the one word of part of an address, among
    those they have besides their main ones (trigram indexes on PostgreSQL); None for other words."""
    if phone_like:
        return CustomerPhone.objects.filter(phone__contains=words[0]).values("customer_id")
    if len(words) == 1 and any(c in "@." for c in words[0]):
        part = normalize_email(words[0])
        return CustomerEmail.objects.filter(email__contains=part).values("customer_id")
    return None


def _stock_number_forms(word: str) -> set[str]:
    """A stock number as typed and as stored: "#T1234A" and "T-1234A" are T1234A."""
    return {word, word.lstrip("#"), re.sub(r"[#-]", "", word)} - {""}


def _vehicles_q(words) -> Q:
    """Lead vehicles with one of the words as VIN, end of a VIN or stock number."""
    vehicles = Q()
    for word in words:
        for form in _stock_number_forms(word):
            vehicles |= Q(stock_number__iexact=form)
        vehicles |= Q(vin__iexact=word)
        if VIN_END.fullmatch(word):
            vehicles |= Q(vin_tail=word[-VIN_TAIL_LENGTH:].upper(), vin__iendswith=word)
    return vehicles


def _stock_vins(words) -> QuerySet[Vehicle]:
    """The VINs of the stock vehicles one of the words is the stock number of: many leads name a
    car by its VIN alone."""
    forms = {form for word in words for form in _stock_number_forms(word)}
    return Vehicle.objects.filter(stock_number__in=forms | {form.upper() for form in forms}).values("vin")


def _search_q(text: str) -> Q:
    """Leads whose customer's name, email or phone holds every word, or whose vehicle has one of
    the words as its VIN, the end of its VIN or its stock number. A whole phone number or email
    address finds the customer by any number or address they have, as stored (an index lookup);
    part of a number (spaces, dashes and all) is matched on its last ten digits, among their
    numbers too; part of an address among their addresses too.

    The customers are found on their own tables (trigram indexes on PostgreSQL) and the vehicles
    on theirs, so the database never reads every lead.
    """
    text = text.strip()
    # A number with its extension; not a VIN's end or a stock number that has an X in it ("5X123456").
    without_extension = PHONE_EXTENSION.sub("", text)
    if PHONE_LIKE.fullmatch(without_extension) and sum(c.isdigit() for c in without_extension) >= 7:
        text = without_extension
    digits = "".join(c for c in text if c.isdigit())
    phone_like = len(digits) >= 7 and PHONE_LIKE.fullmatch(text)
    # "Côté, Émilie" is two words; "514-555", part of a number, is its digits as phones are stored.
    words = (
        [digits[-10:]] if phone_like else [_search_word(word) for word in re.split(r"[\s,;]+", text) if word]
    )
    if phone_like and len(digits) >= 10 and (phone := normalize_phone(text)):
        customers = customers_with_contact("phone", phone)
    elif EMAIL_LIKE.fullmatch(text):
        customers = customers_with_contact("email", normalize_email(text))
    else:
        customers = Customer.objects.alias(search_text=CUSTOMER_SEARCH_TEXT)
        for word in words:
            customers = _customers_with_word(customers, word)
        if (extra := _extra_contacts_holding(words, phone_like=bool(phone_like))) is not None:
            customers = Customer.objects.filter(pk__in=customers.values("pk").union(extra))
    by_customer = Lead.objects.filter(customer__in=customers).values("pk")
    # As typed too: a stock number of digits and dashes ("12345-67") also looks like a phone number.
    vehicle_words = dict.fromkeys([*words, *text.split()])
    # Each on its index, joined with UNION: an OR with the stock subquery would read every vehicle.
    by_vehicle = (
        LeadVehicle.objects.alias(vin_tail=VIN_TAIL).filter(_vehicles_q(vehicle_words)).values("lead_id")
    )
    by_stock = (
        LeadVehicle.objects.alias(vin_upper=Upper("vin"))
        .filter(vin_upper__in=_stock_vins(vehicle_words))
        .values("lead_id")
    )
    return Q(pk__in=by_customer.union(by_vehicle, by_stock))


def _status_q(status: str) -> Q:
    """The leads of a status chip: "open", "all", or one status. A merged duplicate is not a lead
    of its own: its kept lead is listed, under any status. Nor is an inquiry closed as not a lead:
    its own chip lists it, "all" (and so "Replied", and the dashboard's links) leaves it out."""
    if status == "open":
        return Q(status__in=OPEN_LEAD_STATUSES)
    if status == "all":
        return LEADS_COUNTED
    return Q(status=status, merged_into__isnull=True)


# The inbox's toggles, each narrowing whatever status is listed.
INBOX_TOGGLES = ("unanswered", "overdue", "replied")


def _toggles_q(names, deadlines: ResponseDeadlines) -> Q:
    # Like their counts, "unanswered" and "overdue" are about open leads: a sold or lost lead waits
    # for nothing.
    narrowing = {
        "unanswered": WAITING_FOR_ANSWER,
        "overdue": WAITING_FOR_ANSWER & _overdue_q(deadlines),
        "replied": CUSTOMER_REPLIED,
    }
    q = Q()
    for name in names:
        q &= narrowing[name]
    return q


def _lead_narrowed(*, user, filters: dict) -> QuerySet[Lead]:
    """Visible leads narrowed by every inbox filter but the status chips and the toggles."""
    leads = lead_visible_to(user=user)
    if source := filters.get("source"):
        leads = leads.filter(source_matching(source))
    if owner := filters.get("owner"):
        leads = leads.filter(owner__isnull=True) if owner == "none" else leads.filter(owner_id=owner)
    if seller := filters.get("seller"):
        leads = leads.filter(sold_by_id=seller)
    if language := filters.get("language"):
        leads = leads.filter(language=language)
    zone = store_zone()
    if received_from := filters.get("received_from"):
        leads = leads.filter(received_at__gte=datetime.combine(received_from, time.min, tzinfo=zone))
    if received_to := filters.get("received_to"):
        leads = leads.filter(received_at__lte=datetime.combine(received_to, time.max, tzinfo=zone))
    if reached := filters.get("reached"):
        leads = leads.filter(**{f"{REACHED_STAGES[reached]}__isnull": False})
    if text := (filters.get("q") or "").strip():
        leads = leads.filter(_search_q(text))
    return leads


def lead_list(
    *, user, filters: dict | None = None, deadlines: ResponseDeadlines | None = None
) -> QuerySet[Lead]:
    """The inbox: visible leads, filtered; open ones by default. Filters are cleaned values of
    InboxFilterForm (status, source, owner, unanswered, overdue, language, received_from/_to, q, sort)."""
    filters = filters or {}
    deadlines = deadlines or response_deadlines()
    toggles = [name for name in INBOX_TOGGLES if filters.get(name)]
    leads = (
        _lead_narrowed(user=user, filters=filters)
        .filter(_status_q(lead_list_status(filters)) & _toggles_q(toggles, deadlines))
        .select_related("customer", "owner")
    )
    return leads.order_by(*inbox_order(filters).order_by())


# Paging by position: the next page lists the leads after the last one shown, in the list's own
# order, instead of those from an offset. With an offset, a lead answered (or given to another
# advisor) on page 1 meanwhile moves every later lead up by one, and the lead at the edge of the
# page is on neither page worked. A position is the last lead's sort keys as they were shown, each
# a whole number (a moment in microseconds since 1970), joined by dots: "0.1767000000000000.52".
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_POSITION_DIGITS = 18  # below a bigint's limit; a moment that long is past any datetime: refused


@dataclass(frozen=True)
class SortKey:
    name: str  # what the inbox's rows read the key as
    expression: F | Expression
    moment: bool = False  # a datetime: a position writes it in microseconds since 1970


@dataclass(frozen=True)
class InboxOrder:
    """An order of the inbox. Its last key is the lead's id, so that a position is one lead's;
    every key goes the same way, so the leads after a position are those whose keys, compared as
    one row, come after the position's."""

    keys: tuple[SortKey, ...]
    descending: bool

    def order_by(self) -> list[OrderBy]:
        return [key.expression.desc() if self.descending else key.expression.asc() for key in self.keys]

    def position(self, row: dict) -> str:
        """Where a row read with the keys stands in this order."""
        return ".".join(
            str((row[key.name] - _EPOCH) // timedelta(microseconds=1) if key.moment else row[key.name])
            for key in self.keys
        )

    def position_values(self, position: str) -> tuple | None:
        """The keys a position of this order stands at; None when it is none (malformed, or
        another order's)."""
        parts = position.split(".")
        if len(parts) != len(self.keys) or not all(
            is_ascii_digits(part) and len(part) <= _POSITION_DIGITS for part in parts
        ):
            return None
        try:
            return tuple(
                _EPOCH + timedelta(microseconds=int(part)) if key.moment else int(part)
                for part, key in zip(parts, self.keys, strict=True)
            )
        except OverflowError:  # a moment past any datetime
            return None

    def after(self, values: tuple) -> TupleGreaterThan | TupleLessThan:
        """The leads after the position whose keys are `values`: one row comparison (Django's own,
        as composite primary keys compare; PostgreSQL and SQLite alike), which the database seeks
        in the order's index however deep the page, where an OR of the keys one by one is a filter."""
        row = Tuple(*(key.expression for key in self.keys))
        return TupleLessThan(row, values) if self.descending else TupleGreaterThan(row, values)


_RECEIVED_AT = SortKey("sort_received_at", F("received_at"), moment=True)
_WROTE_AT = SortKey("sort_wrote_at", F("customer_waiting_since"), moment=True)
_LEAD_ID = SortKey("sort_id", F("pk"))
# The inbox's orders, by list and sort. No key is ever NULL in its list: a lead is always received,
# the "Replied" list holds only leads whose customer waits (CUSTOMER_REPLIED), and waiting since is
# when the customer wrote again, else when the inquiry came in.
INBOX_ORDERS = {
    ("all", "newest"): InboxOrder(keys=(_RECEIVED_AT, _LEAD_ID), descending=True),
    # Waiting leads first, the longest waiting on top (a customer who wrote again waits since
    # then); then the rest, oldest first.
    ("all", "urgent"): InboxOrder(
        keys=(
            SortKey("sort_waiting_first", LEAD_WAITING_FIRST),
            SortKey("sort_waiting_since", LEAD_WAITING_SINCE, moment=True),
            _LEAD_ID,
        ),
        descending=False,
    ),
    # "Replied": by when the customer wrote, the newest or the longest waiting first.
    ("replied", "newest"): InboxOrder(keys=(_WROTE_AT, _LEAD_ID), descending=True),
    ("replied", "urgent"): InboxOrder(keys=(_WROTE_AT, _LEAD_ID), descending=False),
}


def inbox_order(filters: dict) -> InboxOrder:
    """The order of the inbox the filters (cleaned values of InboxFilterForm) list."""
    listed = "replied" if filters.get("replied") else "all"
    return INBOX_ORDERS[listed, "urgent" if filters.get("sort") == "urgent" else "newest"]


@dataclass(frozen=True)
class InboxRow:
    """One line of the inbox, read as plain values: a page of them builds no model objects."""

    pk: int
    customer: str
    language: str
    vehicle_wanted: str
    inquiry_type: str
    source: str
    status: str
    received_at: datetime
    first_response_at: datetime | None
    first_response_business_minutes: int | None
    customer_waiting_since: datetime | None
    owner: str
    position: str = ""  # where the row stands in the list's order: the next page goes on after it

    @property
    def inquiry_type_label(self) -> str:
        return _INQUIRY_TYPE_LABELS.get(self.inquiry_type, self.inquiry_type)

    @property
    def status_label(self) -> str:
        return LEAD_STATUS_LABELS.get(self.status, self.status)


_INQUIRY_TYPE_LABELS = dict(InquiryType.choices)
# InboxRow's fields read as they are stored; the customer and owner are worked out from several,
# the position from the sort keys.
_INBOX_ROW_FIELDS = [
    field.name for field in fields(InboxRow) if field.name not in ("customer", "owner", "position")
]


@dataclass(frozen=True)
class InboxPage:
    rows: list  # the page's InboxRows
    number: int  # the page shown: the last one when the one asked for is past the end
    has_next: bool
    elsewhere: int  # the leads a search finds only in statuses other than the one listed
    after: str = ""  # where the next page goes on from: the last row's position ("": by its number)
    # No lead is listed after the position the page went on from any more: the list ends before it.
    ended: bool = False


def lead_inbox_page(
    *, user, filters: dict, deadlines: ResponseDeadlines, counts: dict, size: int, after: tuple = ()
) -> InboxPage:
    """The inbox page the filters ask for, or the last one when that is past the end (a bookmark,
    leads answered meanwhile); a search that finds nothing in the status listed says how many it
    finds in the others. `counts`: lead_counts for the same filters. `after`: the keys of the last
    lead the page before showed (InboxPage.after, read by InboxOrder.position_values), which this
    page goes on from whatever was answered or assigned on the pages before meanwhile; without it,
    the page starts at its number's offset. When no lead is listed after it any more, the page is
    empty and says the list ended: the page by its number would show leads already seen again."""

    def rows_of(number: int, after: tuple = ()) -> list[InboxRow]:  # the page's, and the next one's first
        return lead_inbox_rows(
            user=user,
            filters=filters,
            deadlines=deadlines,
            offset=(number - 1) * size,
            limit=size + 1,
            after=after,
        )

    number = filters.get("page", 1)
    rows = rows_of(number, after)
    status = lead_list_status(filters)
    ended = False
    if not rows and number > (last := max(1, math.ceil(counts[status] / size))):
        number, rows = last, rows_of(last)
    elif not rows and after:
        ended = True
    return InboxPage(
        rows=rows[:size],
        number=number,
        has_next=len(rows) > size,
        elsewhere=counts["all"] - counts[status] if not rows and filters.get("q") and not ended else 0,
        after=rows[size - 1].position if len(rows) > size else "",
        ended=ended,
    )


def lead_inbox_rows(
    *,
    user,
    filters: dict | None = None,
    deadlines: ResponseDeadlines | None = None,
    offset: int,
    limit: int,
    after: tuple = (),
) -> list[InboxRow]:
    """One page of `lead_list`, in its order, as the inbox shows it: from `offset`, or the leads
    after the position whose keys are `after` (InboxOrder.position_values) when given."""
    order = inbox_order(filters or {})
    leads = lead_list(user=user, filters=filters, deadlines=deadlines)
    if after:
        leads, offset = leads.filter(order.after(after)), 0
    values = leads.values(
        *_INBOX_ROW_FIELDS,
        "customer_id",
        "customer__first_name",
        "customer__last_name",
        "customer__email",
        "customer__phone",
        "owner__first_name",
        "owner__last_name",
        "owner__username",
        **{key.name: key.expression for key in order.keys},
    )[offset : offset + limit]
    return [
        InboxRow(
            **{field: row[field] for field in _INBOX_ROW_FIELDS},
            customer=customer_label(
                first_name=row["customer__first_name"],
                last_name=row["customer__last_name"],
                email=row["customer__email"],
                phone=row["customer__phone"],
                pk=row["customer_id"],
            ),
            owner=_person_name(row["owner__first_name"], row["owner__last_name"], row["owner__username"]),
            position=order.position(row),
        )
        for row in values
    ]


# Counting reads every lead the store ever had: the counts are kept this long, and dropped
# whenever a lead is created, changes status or gets its first answer (see leads_counts_changed).
# The inbox refreshes every 15 s anyway; a lead turning overdue with time shows within that.
COUNTS_SECONDS = 15
LEAD_COUNTS = "leads:counts"


def lead_counts(
    *, user, filters: dict | None = None, deadlines: ResponseDeadlines | None = None
) -> dict[str, int]:
    """How many leads each chip and toggle of the inbox lists once clicked: the search and the
    other filters kept, as their links keep them. Read in one query, then from a short cache:
    `deadlines` count only when the counts are read again, so callers pass the present ones."""
    filters = filters or {}
    deadlines = deadlines or response_deadlines()
    toggles = [name for name in INBOX_TOGGLES if filters.get(name)]

    def count():
        with_toggles = _toggles_q(toggles, deadlines)
        chips = {
            status: Count("pk", filter=_status_q(status) & with_toggles)
            for status in ("open", *LeadStatus.values, "all")
        }
        for name in INBOX_TOGGLES:
            turned_on = {**filters, name: True}
            chips[name] = Count(
                "pk",
                filter=_status_q(lead_list_status(turned_on)) & _toggles_q({*toggles, name}, deadlines),
            )
        return _lead_narrowed(user=user, filters=filters).aggregate(**chips)

    scope = _visibility_scope(user)
    counted = sorted((name, str(value)) for name, value in filters.items() if name not in ("page", "sort"))
    key = (
        f"{scope}:{user.pk if scope == 'owner' else ''}:{hashlib.sha256(repr(counted).encode()).hexdigest()}"
    )
    return cached_in_generation(LEAD_COUNTS, key, count, COUNTS_SECONDS)


@dataclass(frozen=True)
class LeadsWaiting:
    """The leads waiting for a person's answer: new ones not answered yet, and customers who wrote
    again after an answer."""

    unanswered: int
    replied: int

    @property
    def total(self) -> int:
        return self.unanswered + self.replied


def leads_waiting(*, user) -> LeadsWaiting:
    """How many of this person's leads wait for an answer, from the inbox's shared counts."""
    counts = lead_counts(user=user)
    return LeadsWaiting(unanswered=counts["unanswered"], replied=counts["replied"])


def leads_counts_changed() -> None:
    """Forget the cached counts; called by the services that create leads, change their status or
    record their first answer."""
    generation_next(LEAD_COUNTS)


@dataclass(frozen=True)
class ResponseClock:
    minutes: int  # business minutes waited so far, or taken by the first answer
    state: str  # "ok", "late" (amber), "overdue" (red), "answered", or "closed" (sold or lost unanswered)


def response_clock(lead: Lead | InboxRow, *, deadlines: ResponseDeadlines) -> ResponseClock:
    if lead.first_response_at is not None:
        minutes = lead.first_response_business_minutes
        if minutes is None:
            minutes = business_minutes_between(
                lead.received_at,
                lead.first_response_at,
                hours=deadlines.hours,
                zone=deadlines.zone,
                closed=deadlines.closed,
            )
        return ResponseClock(minutes=minutes, state="answered")
    if lead.status not in OPEN_LEAD_STATUSES:  # nobody waits any more: no clock running
        return ResponseClock(minutes=0, state="closed")
    minutes = business_minutes_between(
        lead.received_at, deadlines.now, hours=deadlines.hours, zone=deadlines.zone, closed=deadlines.closed
    )
    if deadlines.overdue_before and lead.received_at <= deadlines.overdue_before:
        state = "overdue"
    elif deadlines.late_before and lead.received_at <= deadlines.late_before:
        state = "late"
    else:
        state = "ok"
    return ResponseClock(minutes=minutes, state=state)


def source_matching(source: str, *, field: str = "source") -> Q:
    """Rows whose `field` names the same source as `source`, however either is written (source_key)."""
    pattern = (
        rf"^\s*({re.escape(SOURCE_WEB_PREFIX)})?{re.escape(source_key(source))}({SOURCE_WEB_ENDING})?\s*$"
    )
    return Q(**{f"{field}__iregex": pattern})


# The sources leads come from change seldom; the inbox's source filter offers them, read this often.
SOURCE_CHOICES_SECONDS = 300


def lead_sources() -> list[str]:
    """Every source the store's leads came from, as stored: the inbox's source filter matches one
    (in any of its spellings: source_matching), as the dashboard's links do, so it offers them."""

    def read():
        return list(
            Lead.objects.exclude(source="").order_by("source").values_list("source", flat=True).distinct()
        )

    return cache.get_or_set("leads:sources", read, SOURCE_CHOICES_SECONDS)


# The people leads can be assigned to change seldom; the inbox's owner filter reads them this often,
# and again at once after a change of who may own leads (lead_owners_changed).
OWNER_CHOICES_SECONDS = 60
LEAD_OWNERS = "leads:owner-choices"


def lead_owners_possible() -> QuerySet:
    """The people who may own a lead: active advisors, supervisors and managers."""
    return get_user_model().objects.filter(is_active=True, staff__role__in=LEAD_OWNER_ROLES)


def lead_owner_choices() -> list[tuple[str, str]]:
    """(user id, name) of everyone who may own a lead, for the inbox's owner filter."""

    def read():
        people = lead_owners_possible().order_by("first_name", "last_name")
        return [(str(user.pk), user.get_full_name() or user.username) for user in people]

    return cached_in_generation(LEAD_OWNERS, "all", read, OWNER_CHOICES_SECONDS)


def lead_owners_changed() -> None:
    """Forget the cached owner choices now and, for a change still inside a transaction, once it is
    committed (a page read in between would otherwise keep offering someone who left)."""
    generation_next(LEAD_OWNERS)
    transaction.on_commit(lambda: generation_next(LEAD_OWNERS))


def lead_resent(
    *,
    customer: Customer,
    source: str,
    inquiry_type: str,
    comments: str,
    vehicles: list[dict],
    since: datetime,
) -> Lead | None:
    """The customer's open lead made since then by the same form with the same question, words and
    vehicles, if any: that form sent again."""
    leads = customer.leads.filter(
        status__in=OPEN_LEAD_STATUSES,
        source=source,
        received_at__gte=since,
        inquiry_type=inquiry_type,
        comments=comments,
        vehicle_wanted=vehicle_wanted_line(LeadVehicle(**vehicle) for vehicle in vehicles),
    )
    for vin in {vehicle.get("vin") for vehicle in vehicles} - {None, ""}:
        leads = leads.filter(vehicles__vin=vin)
    return leads.order_by("-received_at", "-pk").first()


# Next steps promised on leads and not done yet.
NEXT_STEPS_OPEN = Task.objects.filter(kind=NEXT_STEP, done_at__isnull=True)


def lead_get(*, user, pk: int) -> Lead:
    """The lead with its customer and owner; `has_duplicates`, `has_inbound_mail`, `has_next_steps`,
    `has_other_leads` and the customer's `has_other_emails` and `has_other_phones` say whether its
    page needs to read those lists at all."""
    return (
        lead_visible_to(user=user)
        .select_related("customer", "owner")
        .annotate(
            has_duplicates=Exists(
                _duplicates(
                    user=user,
                    customer_id=OuterRef("customer_id"),
                    pk=OuterRef("pk"),
                    status=OuterRef("status"),
                )
            ),
            has_inbound_mail=Exists(InboundMail.objects.filter(lead=OuterRef("pk"))),
            has_next_steps=Exists(NEXT_STEPS_OPEN.filter(lead=OuterRef("pk"))),
            has_other_leads=Exists(
                Lead.objects.filter(customer_id=OuterRef("customer_id")).exclude(pk=OuterRef("pk"))
            ),
            has_other_emails=Exists(CustomerEmail.objects.filter(customer=OuterRef("customer_id"))),
            has_other_phones=Exists(CustomerPhone.objects.filter(customer=OuterRef("customer_id"))),
        )
        .get(pk=pk)
    )


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    who: str
    message: Message | None = None
    event: LeadEvent | None = None
    attachments: tuple[Attachment, ...] = ()


def _person_name(first_name: str | None, last_name: str | None, username: str | None) -> str:
    """A staff member as pages name them: full name, else user name ("" for nobody)."""
    return f"{first_name or ''} {last_name or ''}".strip() or username or ""


def person_name(user) -> str:
    """A staff member as pages and the timeline name them; "" for nobody."""
    return _person_name(user.first_name, user.last_name, user.get_username()) if user else ""


def lead_taken_from(*, user, pk: int) -> Lead | None:
    """The lead, with its owner, when its timeline shows this person owned it (a change of owner
    gave it to them or took it from them, as its user ids say); None otherwise. A name proves
    nothing: it may have changed, or be someone else's too. Changes recorded with names only,
    before the ids were kept, prove nothing either."""
    lead = Lead.objects.select_related("owner").filter(pk=pk).first()
    if lead is None:
        return None
    had_it = Q(params__owner_id=user.pk) | Q(params__previous_owner_id=user.pk)
    return lead if lead.events.filter(had_it, type="assigned").exists() else None


def lead_next_steps_open(*, lead: Lead) -> QuerySet[Task]:
    """The next steps promised on the lead and not done yet, soonest first, with whose they are."""
    return NEXT_STEPS_OPEN.filter(lead=lead).select_related("assignee").order_by("due_on", "pk")


def lead_timeline(*, lead: Lead) -> list[TimelineEntry]:
    """The whole conversation and every recorded change, oldest first, each with who and when.

    Attachments are read only for the messages that have some: most conversations have none."""
    messages = list(
        Message.objects.filter(lead=lead)
        .select_related("author")
        .annotate(has_attachments=Exists(Attachment.objects.filter(message=OuterRef("pk"))))
    )
    attachments: dict[int, list[Attachment]] = {}
    if with_attachments := [message.pk for message in messages if message.has_attachments]:
        for attachment in Attachment.objects.filter(message__in=with_attachments).order_by("pk"):
            attachments.setdefault(attachment.message_id, []).append(attachment)
    events = LeadEvent.objects.filter(lead=lead).select_related("actor")
    entries = [
        TimelineEntry(
            at=message.occurred_at,
            who=person_name(message.author) or message.from_address or "customer",
            message=message,
            attachments=tuple(attachments.get(message.pk, ())),
        )
        for message in messages
    ]
    entries += [
        TimelineEntry(at=event.created_at, who=person_name(event.actor), event=event) for event in events
    ]
    return sorted(entries, key=lambda entry: (entry.at, entry.event is not None))


def lead_mail_waiting(*, timeline: list[TimelineEntry]) -> list[Message]:
    """Mail of the lead the mail server could not take yet: still queued, with why (its sweep sends
    it once the server answers)."""
    return [
        entry.message
        for entry in timeline
        if entry.message is not None
        and entry.message.send_status == Message.SendStatus.QUEUED
        and entry.message.send_error
    ]


def lead_unsent_mail(*, timeline: list[TimelineEntry]) -> list[Message]:
    """Mail of the lead that the server refused or never took, and that nothing has made up for:
    once a later mail to the same people has gone, the failure is history (its timeline line)."""
    unsent: list[Message] = []
    for entry in timeline:
        message = entry.message
        if message is None or message.direction != Direction.OUTBOUND:
            continue
        if message.send_status == Message.SendStatus.FAILED:
            unsent.append(message)
        elif message.send_status == Message.SendStatus.SENT:
            unsent = [failed for failed in unsent if set(failed.to_addresses) - set(message.to_addresses)]
    return unsent


def _last_from_customer(*, lead: Lead, timeline: list[TimelineEntry] | None) -> Message | None:
    """The customer's latest message on the lead: from the timeline when the caller has read it
    already (it holds every message), else read."""
    if timeline is None:
        return (
            Message.objects.filter(lead=lead, direction=Direction.INBOUND)
            .order_by("-occurred_at", "-pk")
            .first()
        )
    messages = (
        entry.message for entry in timeline if entry.message and entry.message.direction == Direction.INBOUND
    )
    return max(messages, key=lambda message: (message.occurred_at, message.pk), default=None)


def lead_customer_last_mail(
    *, lead: Lead, messages: list[Message] | None = None, other_emails: set[str] | None = None
) -> Message | None:
    """The customer's latest mail on the lead sent from one of their own addresses: a lead
    provider's or the website's mail (an ADF, a web form) or a colleague's forward is not theirs.
    `messages` (the timeline's) and `other_emails` (the customer's addresses besides the one on
    file): when the caller has read them already."""
    if messages is None:
        messages = Message.objects.filter(lead=lead, channel=Channel.EMAIL, direction=Direction.INBOUND)
    mails = sorted(
        (m for m in messages if m.channel == Channel.EMAIL and m.direction == Direction.INBOUND),
        key=lambda mail: (mail.occurred_at, mail.pk),
        reverse=True,
    )
    customer = lead.customer
    for mail in mails:
        address = normalize_email(parseaddr(mail.from_address)[1])
        if address and address == customer.email:
            return mail
        if other_emails is None:  # read only when a mail came from another address
            other_emails = set(customer.extra_emails.values_list("email", flat=True))
        if address in other_emails:
            return mail
    return None


def lead_reply_address(
    *, lead: Lead, messages: list[Message] | None = None, other_emails: set[str] | None = None
) -> str:
    """Where an answer to the customer goes: the address of their last mail of their own on the
    lead, as a mail program answers (a work address, a new one), the one the answer quotes; else
    their address on file. `messages`, `other_emails`: as lead_customer_last_mail takes them."""
    mail = lead_customer_last_mail(lead=lead, messages=messages, other_emails=other_emails)
    return normalize_email(parseaddr(mail.from_address)[1]) if mail else lead.customer.email


def lead_last_customer_words(*, lead: Lead, timeline: list[TimelineEntry] | None = None) -> str:
    """What the customer wrote last (their latest inbound message, else the lead's comments).

    `timeline`: the lead's timeline when the caller has read it already; it holds every message."""
    last = _last_from_customer(lead=lead, timeline=timeline)
    return (last.new_text or last.body_text) if last else lead.comments


def lead_duplicates(*, user, lead: Lead) -> QuerySet[Lead]:
    """Other leads of the same customer this person may see: candidates for a merge."""
    return (
        _duplicates(user=user, customer_id=lead.customer_id, pk=lead.pk, status=Value(lead.status))
        .select_related("owner")
        .order_by("-received_at")
    )


def _duplicates(*, user, customer_id, pk, status) -> QuerySet[Lead]:
    """Leads that may be folded into the lead (`pk`, `status`): never a sold one, and into a sold or
    lost lead only a lost one, so that a merge never closes an inquiry still being worked. An inquiry
    closed as not a lead is merged with no other (lead_merge)."""
    return (
        lead_visible_to(user=user)
        .filter(customer_id=customer_id)
        .exclude(pk=pk)
        .exclude(status__in=[LeadStatus.SOLD, LeadStatus.NOT_A_LEAD])
        .filter(merged_into__isnull=True)
        .alias(target_status=ExpressionWrapper(status, output_field=CharField()))
        .filter(Q(status=LeadStatus.LOST) | Q(target_status__in=OPEN_LEAD_STATUSES))
        .exclude(target_status=LeadStatus.NOT_A_LEAD)
    )
