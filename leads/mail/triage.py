"""What an inbound message is, who it is from and where it goes.

Order of decision: bounces, automatic replies (headers, subject, an absence notice in the body) and
the store's own mail come back, whatever the rules say: no rule can make the store answer them.
Then the supervisor's active routing rules (in their order), which may still route bulk and
mailing-list mail (never acknowledged); then bulk mail is set aside, then a reply on a lead, then a
new lead (sales) or a forward to the department the words point to.
Mail from a department's forward address (on the store's domain or not: a partner body shop) is
the department's, before any rule: what it sends back to the store is never forwarded to it again.
Lead-provider ADF and website contact forms are machine-made by nature, so the bulk/auto-generated
headers they often carry do not make them automatic replies. Triage reads no database but the
rules, the departments' forward addresses and, for mail from the store's domain, whether a member
of staff has that address: a reply is known by its signed reply address or by an
In-Reply-To/References id of the store's domain; the pipeline also matches `in_reply_to_ids`
against the messages it sent.
"""

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field, replace
from email.utils import getaddresses

import phonenumbers
from django.conf import settings

from ..language import store_language
from ..models.routing import MailKind, keywords
from ..normalize import normalize_email, normalize_phone, phone_extension_of, phones_in_text, split_name
from ..selectors.customers import name_key
from ..selectors.mail import staff_address_exists
from ..threading import lead_id_from_address, store_address
from .adf import (
    AdfContact,
    AdfLead,
    AdfProspect,
    AdfVehicle,
    decode_adf_bytes,
    looks_like_adf,
    parse_adf,
)
from .parsing import ParsedMail, clean_text, parse_message
from .text import EMAIL, QUOTE_START, ForwardedOriginal, forwarded_original, html_to_text, without_sign_off
from .webforms import WebForm, parse_web_form
from .words import (
    BOUNCE_SUBJECTS,
    DELIVERY_NOTICE_PHRASES,
    DEPARTMENT_OF_PHRASE,
    DEPARTMENT_PHRASES,
    ENGLISH_WORDS,
    FRENCH_WORDS,
    INQUIRY_PHRASES,
    LEASE_ENDING_PHRASES,
    LISTING_PHRASES,
    NEUTRAL_PHRASES,
    NEW_VEHICLE_PHRASES,
    NEXT_VEHICLE_PHRASES,
    OUT_OF_OFFICE_PHRASES,
    OUT_OF_OFFICE_SUBJECT_START,
    OUT_OF_OFFICE_SUBJECTS,
    PERMANENT_FAILURE_PHRASES,
    PURCHASE_CONDITION_WORDS,
    PURCHASE_FINANCING_PHRASES,
    REFERRAL_PHRASES,
    REQUEST_PHRASES,
    RESPONDER_PHRASES,
    RETURN_PHRASES,
    SENDER_VERIFICATION_PHRASES,
    STRONG_SALES_PHRASES,
    TIRE_FITTING_PHRASES,
    TIRE_PHRASES,
    TOTAL_LOSS_PHRASES,
    UNSUBSCRIBE_PHRASES,
    UNSUBSCRIBE_WORDS,
    VEHICLE_NAME_WORDS,
    VEHICLE_REQUEST_PHRASES,
    WEAK_OUT_OF_OFFICE_PHRASES,
    WHEEL_PHRASES,
    fold,
    phrase_pattern,
    phrases_found,
)

SALES = "sales"
STRONG_SALES = {fold(phrase) for phrase in STRONG_SALES_PHRASES}
# Words of the car a customer has that a mail about their next one mentions in passing, and the
# words that show the next one in view: the lease that ends, the loan for the new one, the accident
# that wrote the car off.
PAST_CAR_WORDS = (
    ({fold(phrase) for phrase in LEASE_ENDING_PHRASES}, NEXT_VEHICLE_PHRASES),
    ({fold(phrase) for phrase in PURCHASE_FINANCING_PHRASES}, NEW_VEHICLE_PHRASES),
    ({fold(phrase) for phrase in DEPARTMENT_PHRASES["body_shop"]}, TOTAL_LOSS_PHRASES),
)
TIRES = {fold(phrase) for phrase in TIRE_PHRASES}
WORDS_READ = 20_000  # characters of a message's words that triage reads
ADF_ATTACHMENT = re.compile(r"\.(xml|adf)$", re.IGNORECASE)
MESSAGE_ID_LINE = re.compile(r"(?im)^[ \t>]*message-id:[ \t]*(<[^<>\s]{1,900}>)")
DSN_STATUS = re.compile(r"(?<![\d.])([245])\.\d{1,3}\.\d{1,3}(?![\d.])")
# A permanent SMTP reply where a server's answer stands: at a line start, after "said:" or "smtp;",
# and followed by words or a 5.x.x status ("550 No such user", "550-5.1.1 …", qmail's and Yahoo's
# "554: delivery error"); never the digits of a phone number such as 514-550-1234.
SMTP_PERMANENT = re.compile(
    r"(?im)(?:^[ \t>]*|said:[ \t]*|smtp;[ \t]*)55[0-4](?=:?[ \t]+[a-z<#(\[]|[ \t]+5\.\d|-5\.\d|-[a-z])"
)
MAIL_SYSTEM_SENDERS = ("mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon")
OUT_OF_OFFICE_OPENING = 300  # characters of the body in which an absence notice says so
OUT_OF_OFFICE_LENGTH = 600  # an absence notice is short; a longer mail is a person's
VEHICLE_WORDS = re.compile(
    r"^\s*(?:(?P<year>(?:19|20)\d{2})\s+)?(?P<make>\S+)(?:\s+(?P<model>\S+))?(?:\s+(?P<trim>.+))?$"
)


@dataclass
class Triage:
    kind: str  # a MailKind value: lead, reply, forward, auto_reply, bounce
    department: str | None  # a Department.Code value; None for automatic replies and bounces
    language: str = "en"  # en or fr
    rule: str = ""  # what decided: "rule:<name>", "adf", "bounce-report", "keywords:service", …
    # first_name, last_name, name, email, phone (E.164) and phone_extension (which E.164 cannot hold)
    contact: dict = field(default_factory=dict)
    vehicles: list[dict] = field(default_factory=list)  # interest, status, year, make, model, trim, vin,
    # stock, and odometer (km) and price when known
    source: str | None = None  # the lead provider or website
    comments: str = ""  # the customer's words
    inquiry_type: str = "general"  # an InquiryType value
    reply_lead_id: int | None = None  # from a signed reply address among the recipients
    in_reply_to_ids: list[str] = field(default_factory=list)  # and, for bounces, the failed message's ids
    bounce_recipients: list[str] = field(default_factory=list)
    bounce_permanent: bool = False  # a hard failure (5.x.x)
    acknowledge: bool = False  # send the new lead an immediate acknowledgement
    forwarded_by: str = ""  # the member of staff who forwarded the customer's mail
    unsubscribe: bool = False  # the writer asks for no more mail
    unsubscribe_only: bool = False  # …and asks nothing else: no lead to open for it
    answers_store_mail: bool = (
        False  # a reply subject, or the store's mail quoted: the thread headers may be lost
    )
    # The other customers of a lead provider's ADF batch, a lead each: their contact, vehicles,
    # source, comments and inquiry_type, as above (the rest of the decision is theirs too).
    other_customers: list[dict] = field(default_factory=list)


# --- the signals ---------------------------------------------------------------------------------


def _store_domain() -> str:
    return store_address().lower().rpartition("@")[2]


def _local_part(address: str) -> str:
    return address.partition("@")[0].lower()


def bounce_signal(parsed: ParsedMail) -> str | None:
    """What marks a delivery failure notice, if anything: a report (multipart/report, a
    delivery-status part), a mail system's sender (mailer-daemon, postmaster), or else a subject
    that opens like one ("Undeliverable: …") over a body that speaks of an undelivered message or
    carries an SMTP status. A customer's "Parts delivery failed" is none of these."""
    if parsed.is_bounce_report or parsed.delivery_status:
        return "bounce-report"
    if _local_part(parsed.from_address) in MAIL_SYSTEM_SENDERS:
        return "bounce-sender"
    if phrase_pattern(BOUNCE_SUBJECTS).match(fold(parsed.subject).strip()):
        text = parsed.text[:WORDS_READ]
        if phrases_found(fold(text), DELIVERY_NOTICE_PHRASES) or DSN_STATUS.search(text):
            return "bounce-subject"
    return None


def bounce_details(parsed: ParsedMail) -> tuple[list[str], bool]:
    """The addresses that failed and whether the failure is permanent (5.x.x)."""
    failed = [s for s in parsed.delivery_status if s.action in ("failed", "")] or parsed.delivery_status
    recipients = [s.recipient for s in failed]
    statuses = [s.status for s in failed]
    header = parsed.headers.get("x-failed-recipients", "")
    recipients += [a.lower() for a in EMAIL.findall(header)]
    text = parsed.text[:20_000]
    if not recipients:
        # Addresses the notice names, less its own, the store's and the ids of quoted messages.
        ignore = {parsed.from_address, *parsed.recipients}
        domain = _store_domain()
        named = EMAIL.findall(MESSAGE_ID_LINE.sub("", text))
        recipients = [
            a.lower() for a in named if a.lower() not in ignore and not a.lower().endswith("@" + domain)
        ][:5]
    if not statuses:
        statuses = [m.group(0) for m in DSN_STATUS.finditer(text)]
    permanent = any(s.startswith("5") for s in statuses) or (
        not statuses and bool(phrases_found(fold(text), PERMANENT_FAILURE_PHRASES))
    )
    if not statuses and SMTP_PERMANENT.search(text):
        permanent = True
    return list(dict.fromkeys(r for r in recipients if r)), permanent


def _auto_submitted(parsed: ParsedMail) -> str:
    """The Auto-Submitted header, as compared: "" when absent, "no" for a person's mail."""
    return parsed.headers.get("auto-submitted", "").strip().lower()


def answering_signal(parsed: ParsedMail, *, machine_made_lead: bool) -> str | None:
    """The header, subject or body that marks an automatic answer (out-of-office, vacation), if any."""
    headers = parsed.headers
    if _auto_submitted(parsed).startswith("auto-replied"):
        return "auto-submitted"
    if headers.get("x-autoreply") or headers.get("x-autorespond"):
        return "x-autoreply"
    subject = fold(parsed.subject)
    if phrases_found(subject, OUT_OF_OFFICE_SUBJECTS) or OUT_OF_OFFICE_SUBJECT_START.match(subject):
        return "out-of-office-subject"
    if headers.get("x-auto-response-suppress", "").strip().lower() in ("oof", "all"):
        return "x-auto-response-suppress"
    if any(
        part.content_type == "text/calendar"
        and re.search(rb"(?im)^METHOD:\s*REPLY\s*$", part.data)
        and not re.search(rb"(?i)PARTSTAT=DECLINED", part.data)
        for part in parsed.attachments
    ):
        # "Accepted: Test drive": the calendar answering an invitation. A decline is the
        # customer's answer, for the desk to see.
        return "calendar-reply"
    if not machine_made_lead and _answers_without_quoting(parsed):
        if out_of_office_body(parsed.new_text or parsed.text):
            return "out-of-office-body"
        if sender_verification_request(parsed.text):
            return "challenge-response"
    return None


REPLY_SUBJECT = re.compile(r"^\s*(re|r[ée]p|r[ée]ponse|aw|sv)\s*:", re.IGNORECASE)


def _answers_without_quoting(parsed: ParsedMail) -> bool:
    """Answers a message (a reply subject, thread headers, a lead's reply address) and quotes none
    of it, as a responder does. A fresh mail is a person writing, whatever it says of their
    holidays ("on vacation until the 20th, send me your best price"); so is a reply that quotes."""
    answers = bool(
        parsed.in_reply_to
        or parsed.references
        or REPLY_SUBJECT.match(parsed.subject)
        or any(map(lead_id_from_address, parsed.recipients))
    )
    return answers and not QUOTE_START.search(parsed.text)


def _quotes_store_mail(parsed: ParsedMail) -> bool:
    """Quotes mail the store sent: its address in the quoted part ("De : Maple Motors <internet@…>")."""
    quote = QUOTE_START.search(parsed.text)
    store = store_address().lower()
    return bool(quote and store and store in parsed.text[quote.start() : quote.start() + WORDS_READ].lower())


def out_of_office_body(text: str) -> bool:
    """An absence notice written in the body, as a vacation responder without headers sends it.
    Only when all of these hold, so that a customer mentioning a trip is still read: an absence
    phrase opens the message (its first lines), the message is short, says when the writer is back
    ("until", "jusqu'au", "de retour"), and asks nothing: no question mark, no request ("call me",
    "j'aimerais") and no department's words (a vehicle, a repair, a part, a loan…) but in a sentence
    sending the reader to someone else ("for fleet repairs, please contact Denis")."""
    text = text.strip()
    if not text or len(text) > OUT_OF_OFFICE_LENGTH or "?" in text:
        return False
    folded = fold(text)
    opening = folded[:OUT_OF_OFFICE_OPENING]
    responder = bool(phrases_found(folded, RESPONDER_PHRASES))
    # "Out of town", "travelling", « en formation » are a customer's words too ("I'm out of town
    # until Friday, I'll call you when I get back"): they count only beside a responder's promise to
    # answer ("will reply to your message", « je vous répondrai »), which also says they come back.
    if not (
        phrases_found(opening, OUT_OF_OFFICE_PHRASES)
        or (responder and phrases_found(opening, WEAK_OUT_OF_OFFICE_PHRASES))
    ):
        return False
    if not (responder or phrases_found(folded, RETURN_PHRASES)) or phrases_found(folded, REQUEST_PHRASES):
        return False
    folded = phrase_pattern(NEUTRAL_PHRASES).sub(" ", folded)
    asked = [line for line in re.split(r"[.!;\n]+", folded) if not phrases_found(line, REFERRAL_PHRASES)]
    return not phrase_pattern(tuple(DEPARTMENT_OF_PHRASE)).search("\n".join(asked))


def sender_verification_request(text: str) -> bool:
    """A spam filter's challenge ("click the link below to complete the verification process"): a
    short message with its link. Following it is a person's choice, never the store's automatic one."""
    text = text.strip()
    return (
        len(text) <= OUT_OF_OFFICE_LENGTH
        and "http" in text
        and bool(phrases_found(fold(text), SENDER_VERIFICATION_PHRASES))
    )


def bulk_signal(parsed: ParsedMail, *, machine_made_lead: bool) -> str | None:
    """The headers of mail a program sent (auto-generated, bulk, mailing lists), if any: never
    answered automatically, though a rule may route it. Lead providers' ADF and website forms carry
    them by nature, so they do not count there."""
    if machine_made_lead:
        return None
    headers = parsed.headers
    if _auto_submitted(parsed) not in ("", "no"):
        return "auto-submitted"
    if headers.get("precedence", "").strip().lower() in ("bulk", "auto_reply", "junk", "list"):
        return "precedence"
    if headers.get("list-id") or headers.get("list-unsubscribe"):
        return "mailing-list"  # newsletters and list traffic: nobody is asking anything
    return None


def detect_language(text: str) -> str:
    """'fr' when French stop words (and accents) outweigh English ones, 'en' when English ones
    outweigh French ones, else the store's language."""
    folded = fold(text[:5000])
    words = re.findall(r"[a-z]+", folded)
    french = sum(word in FRENCH_WORDS for word in words)
    english = sum(word in ENGLISH_WORDS for word in words)
    french += len(re.findall(r"[éèêàçùâôî]", text[:5000].lower())) / 3
    return "fr" if french > english else "en" if english > french else store_language()


# A manufacturer's part number ("04465-02220", Toyota accessories' "PT908-42200"), in folded text.
PART_NUMBER = re.compile(r"(?<![\w-])(?:pt\d{3}|\d{5})-[0-9a-z]{5}(?![\w-])")
# What is bought for the customer's own car: a part, a wheel, a service item (a battery, brakes),
# or anything "for my 2019 Civic", « pour ma voiture ».
_OWN_CAR_ITEM = phrase_pattern(
    (*DEPARTMENT_PHRASES["parts"], *DEPARTMENT_PHRASES["service"], *WHEEL_PHRASES)
).pattern.removeprefix(r"(?<!\w)")
_FOR_OWN_CAR = (
    r"(?:for|pour)\s+(?:my|mon|ma)\s+"
    r"(?:(?:19|20)\d\d|car|truck|vehicle|suv|van|voiture|vehicule|camion|auto)(?!\w)"
)
# A word of what is bought; a joining word ("a RAV4 with winter tires") starts something else, and a
# condition or the vehicle ("buy the RAV4 if the brakes…", "your red Mazda3 winter tires included?",
# « acheter le CR-V si les pneus… ») makes the purchase the vehicle's.
_NOT_BOUGHT = phrase_pattern(
    (
        *("with", "and", "or", "plus", "including", "to", "for", "that", "which", "but"),
        *("avec", "et", "ou", "incluant", "pour", "qui", "que", "mais"),
        *PURCHASE_CONDITION_WORDS,
        *VEHICLE_NAME_WORDS,
    )
).pattern.removeprefix(r"(?<!\w)")
_MODEL_WITH_NUMBER = r"(?!pt\d{3}-)[a-z]{1,6}-?\d"  # rav4, mazda3, cx-5, f-150; not a part number
_BOUGHT_WORD = rf"\s+(?!{_NOT_BOUGHT}|{_MODEL_WITH_NUMBER}|(?:19|20)\d\d(?!\w))[\w'-]+"
# "Buy a new battery", "buy 4 winter tires on rims", « acheter des pneus d'hiver avec jantes », "buy a
# block heater for my Civic": a purchase verb and the few words naming an item for the customer's own
# car are no buyer's words. Before "for my …", a year names a vehicle: "a 2026 RAV4 for my 2019
# Corolla" is still bought.
BUYING_FOR_OWN_CAR = re.compile(
    r"(?<!\w)(?:buy|buying|purchase|purchasing|acheter|achat)"
    rf"(?:{_BOUGHT_WORD}){{0,4}}?"
    rf"(?=\s+{_OWN_CAR_ITEM}(?!\s+(?:included|inclus|incluses?)(?!\w))|\s+{_FOR_OWN_CAR})"
)


def detect_department(text: str, *, wants_vehicle: bool = False) -> tuple[str, str]:
    """The department the words point to, and the signal that decided. Wanting a vehicle weighs
    double and wins ties: a buyer asking about a service plan or financing is still a sales lead,
    and so is a customer whose lease ends, or whose car was written off, who asks about the next
    vehicle. Asking to test drive or to sell a vehicle is always the sales desk's. Tires bought on
    their wheels are the parts counter's, fitting them the service department's."""
    folded = phrase_pattern(NEUTRAL_PHRASES).sub(" ", fold(text))
    if phrases_found(folded, VEHICLE_REQUEST_PHRASES):
        return SALES, "keywords:sales"
    folded = BUYING_FOR_OWN_CAR.sub(" ", folded)
    scores = dict.fromkeys(DEPARTMENT_PHRASES, 0)
    found = set(phrase_pattern(tuple(DEPARTMENT_OF_PHRASE)).findall(folded))
    for past_car, next_vehicle in PAST_CAR_WORDS:
        if (mentioned := found & past_car) and phrases_found(folded, next_vehicle):
            found -= mentioned
            wants_vehicle = True
    tires_bought = phrases_found(folded, WHEEL_PHRASES) and not phrases_found(folded, TIRE_FITTING_PHRASES)
    for phrase in found:
        department = "parts" if tires_bought and phrase in TIRES else DEPARTMENT_OF_PHRASE[phrase]
        scores[department] += 2 if phrase in STRONG_SALES else 1
    if PART_NUMBER.search(folded):
        scores["parts"] += 1
    if wants_vehicle:
        scores[SALES] += 2
    best = max((d for d in scores if d != SALES), key=lambda d: scores[d])
    if scores[best] > scores[SALES]:
        return best, f"keywords:{best}"
    return SALES, "keywords:sales" if scores[SALES] else "default"


def unsubscribe_request(subject: str, words: str) -> bool:
    """Whether the writer asks for no more mail: in the subject or their own words, or a message
    that is nothing but "STOP"."""
    if phrases_found(fold(f"{subject}\n{words}"), UNSUBSCRIBE_PHRASES):
        return True
    return fold(words).strip(" \t\n.!") in UNSUBSCRIBE_WORDS


def asks_nothing_else(text: str, *, wants_vehicle: bool) -> bool:
    """An unsubscribe request with no question, no vehicle and no department's words besides."""
    rest = phrase_pattern(UNSUBSCRIBE_PHRASES).sub(" ", fold(text))
    return not (wants_vehicle or "?" in rest or phrase_pattern(tuple(DEPARTMENT_OF_PHRASE)).search(rest))


def detect_inquiry_type(text: str, vehicles: list[dict]) -> str:
    interests = {v.get("interest") for v in vehicles}
    if "test-drive" in interests:
        return "test_drive"
    folded = fold(text)
    for inquiry, phrases in INQUIRY_PHRASES.items():
        if phrases_found(folded, phrases):
            return inquiry
    if "trade-in" in interests:
        return "trade_in"
    if "lease" in interests:
        return "financing"
    return "general"


# --- who and what ----------------------------------------------------------------------------------


def _above_quote(text: str) -> str:
    """The sender's own part of a mail, signature included: all before the earlier mail it quotes
    (whose phones are the store's or someone else's)."""
    quote = QUOTE_START.search(text)
    return (text[: quote.start()] if quote else text)[:WORDS_READ]


def _store_phones() -> set[str]:
    """The store's own numbers: a customer who writes that they called it is not reached there."""
    return {normalize_phone(settings.STORE.get("phone", ""))} - {""}


def _may_be_the_customers(phone: str, store_phones: set[str]) -> bool:
    """Neither the store's own number nor a toll-free one (E.164): a business's, from a signature or
    an ad the customer quotes, never a person's own line."""
    return (
        phone not in store_phones
        and phonenumbers.number_type(phonenumbers.parse(phone)) != phonenumbers.PhoneNumberType.TOLL_FREE
    )


def _first_phone(*texts: str) -> tuple[str, str]:
    """The first phone number in these texts that may be the customer's (neither the store's own
    nor a toll-free one), and the extension written with it ("" without one)."""
    store_phones = _store_phones()
    for text in texts:
        if not text:
            continue
        if (phone := normalize_phone(text)) and _may_be_the_customers(phone, store_phones):
            return phone, phone_extension_of(text)
        try:
            for number in phones_in_text(text[:20_000]):
                phone = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
                if _may_be_the_customers(phone, store_phones):
                    return phone, number.extension or ""
        except Exception:  # noqa: BLE001 - a phone is a nicety, never a failure
            continue
    return "", ""


def _contact(first: str, last: str, full: str, email: str, phone: str, extension: str) -> dict:
    if full and not (first or last):
        first, last = split_name(full)
    full = " ".join(p for p in (first, last) if p) or full
    return {
        "first_name": first or None,
        "last_name": last or None,
        "name": full or None,
        "email": normalize_email(email) or None,
        "phone": phone or None,
        "phone_extension": extension or None,
    }


def _vehicle_dict(
    *, interest="buy", status="", year=None, make="", model="", trim="", vin="", stock="", **extra
) -> dict:
    vehicle = {
        "interest": interest or "buy",
        "status": status or None,
        "year": year,
        "make": make or None,
        "model": model or None,
        "trim": trim or None,
        "vin": vin or None,
        "stock": stock or None,
    }
    vehicle.update({k: v for k, v in extra.items() if v is not None})
    return vehicle


def _adf_vehicle(vehicle: AdfVehicle) -> dict:
    odometer = vehicle.odometer
    if odometer is not None and vehicle.odometer_units in ("mi", "miles", "mile"):
        odometer = round(odometer * 1.609344)
    return _vehicle_dict(
        interest=vehicle.interest,
        status=vehicle.status,
        year=vehicle.year,
        make=vehicle.make,
        model=vehicle.model,
        trim=vehicle.trim,
        vin=vehicle.vin,
        stock=vehicle.stock,
        odometer=odometer,
        price=vehicle.price,
    )


def _words_vehicle(description: str, **known) -> dict | None:
    match = VEHICLE_WORDS.match(" ".join(description.split()))
    if not match or not (match.group("year") or known):
        return None
    year = match.group("year")
    return _vehicle_dict(
        year=int(year) if year else None,
        make=match.group("make") or "",
        model=match.group("model") or "",
        trim=match.group("trim") or "",
        **known,
    )


def _form_vehicles(form: WebForm) -> list[dict]:
    status = "used" if re.search(r"used|usag|occasion|pre-?owned", fold(form.get("status"))) else ""
    status = status or ("new" if re.search(r"new|neu", fold(form.get("status"))) else "")
    known = {k: form.get(k) for k in ("vin", "stock") if form.get(k)}
    vehicles = []
    if form.get("vehicle"):
        vehicle = _words_vehicle(form.get("vehicle"), status=status, **known)
        if vehicle:
            vehicles.append(vehicle)
    elif form.get("make") or form.get("model"):
        year = re.search(r"\d{4}", form.get("year"))
        vehicles.append(
            _vehicle_dict(
                status=status,
                year=int(year.group(0)) if year else None,
                make=form.get("make"),
                model=form.get("model"),
                trim=form.get("trim"),
                **known,
            )
        )
    if form.get("trade_in"):
        trade = _words_vehicle(form.get("trade_in"), interest="trade-in")
        if trade:
            vehicles.append(trade)
    return vehicles


def _adf_candidates(parsed: ParsedMail):
    """Texts that may carry ADF: .xml/.adf or XML attachments, any attachment that starts like ADF,
    then the body part that carried it."""
    for attachment in parsed.attachments:
        named = ADF_ATTACHMENT.search(attachment.filename) or "xml" in attachment.content_type
        if named or looks_like_adf(attachment.data[:4096].decode("latin-1")):
            yield clean_text(decode_adf_bytes(attachment.data))
    if parsed.adf_text:
        yield parsed.adf_text


# The fields a customer's own signature may hold ("Name: … / Phone: …"); any other is a form's.
SIGNATURE_FIELDS = {"name", "first_name", "last_name", "email", "phone"}


def _notification_form(parsed: ParsedMail) -> WebForm | None:
    """A website's contact-form notification, also one sent from the visitor's own address; not a
    customer whose own signature says "Phone:"."""
    form = parse_web_form(parsed.text[:WORDS_READ])
    if form is None:
        return None
    email = EMAIL.search(form.get("email"))
    own_signature = (
        email and email.group(0).lower() == parsed.from_address and form.fields.keys() <= SIGNATURE_FIELDS
    )
    return None if own_signature else form


def _find_adf(parsed: ParsedMail) -> tuple[AdfLead | None, str]:
    """The first readable ADF lead, else the raw text of ADF that could not be read (else "")."""
    unreadable = ""
    for text in _adf_candidates(parsed):
        if adf := parse_adf(text):
            return adf, ""
        if not unreadable and looks_like_adf(text):
            unreadable = text
    return None, unreadable


def _sender_matches(keyword: str, address: str) -> bool:
    """A rule's sender keyword against the sender's address, never the display name (a "John
    Edmunds" is no lead provider): a domain ("cars.com") matches itself and its subdomains (not
    "mycars.com") or an address with that local part, any other keyword ("leads@", "autotrader")
    any part of the address."""
    keyword = fold(keyword).strip().lstrip(".")
    if not keyword:
        return False
    local, _, domain = address.rpartition("@")
    if "." in keyword and "@" not in keyword:
        return domain == keyword or domain.endswith("." + keyword) or local == keyword
    return keyword in address


def _rule_matches(rule, parsed: ParsedMail, folded_text: str) -> bool:
    sender = fold(parsed.from_address)
    checks = []
    if rule.sender_contains.strip():
        checks.append(any(_sender_matches(k, sender) for k in keywords(rule.sender_contains)))
    if rule.sender_regex.strip():
        try:
            checks.append(bool(re.search(rule.sender_regex, parsed.from_address, re.IGNORECASE)))
        except re.error:
            checks.append(False)
    if rule.recipient_contains.strip():
        words = [fold(k) for k in keywords(rule.recipient_contains)]
        checks.append(any(w in r for w in words for r in parsed.recipients))
    if rule.subject_contains.strip():
        checks.append(bool(phrases_found(fold(parsed.subject), tuple(keywords(rule.subject_contains)))))
    if rule.text_contains.strip():
        checks.append(bool(phrases_found(folded_text, tuple(keywords(rule.text_contains)))))
    return bool(checks) and all(checks)


def _leads_from_providers(rule, sender: str) -> bool:
    """A lead rule taking this sender's mail by a site's name or domain ("kijiji", "cars.com"), not
    by one person's address: its leads are the customers the site passes on (ADF, a form, a
    Reply-To), never the site itself."""
    return rule.kind == MailKind.LEAD and any(
        _sender_matches(keyword, fold(sender)) and not EMAIL.fullmatch(keyword)
        for keyword in keywords(rule.sender_contains)
    )


def _load_rules():
    from ..selectors.routing import routing_rule_list

    return list(routing_rule_list(active_only=True))


@dataclass(frozen=True)
class _Reading:
    """Who wrote, about what, through whom: from the ADF, else the web form, else the mail itself."""

    contact: dict
    vehicles: list[dict]
    source: str | None
    comments: str
    forwarded: bool = False  # a customer's mail forwarded by staff: its words are the customer's
    others: tuple["_Reading", ...] = ()  # the other customers of an ADF batch


def _read(
    parsed: ParsedMail,
    adf: AdfLead | None,
    unreadable_adf: str,
    form: WebForm | None,
    reply_to: tuple[str, str] | None,
) -> _Reading:
    if adf:
        first, *others = _by_customer(adf)
        return replace(_adf_reading(first), others=tuple(map(_adf_reading, others)))
    if form:
        first, last, full = form.get("first_name"), form.get("last_name"), form.get("name")
        if first and full and not last:
            # "Prénom : Léa / Nom : Morin": beside a first name, the name field is the family name.
            last, full = full.removeprefix(first).strip() if full.startswith(first) else full, ""
        return _Reading(
            contact=_contact(
                first, last, full, _address(form.get("email")), *_first_phone(form.get("phone"))
            ),
            vehicles=_form_vehicles(form),
            source=form.get("source") or parsed.from_address.rpartition("@")[2] or None,
            comments=form.get("comments"),
        )
    if not unreadable_adf and (original := staff_forward(parsed)):
        # A salesperson passing on their customer's mail: the lead is the customer's.
        return _Reading(
            contact=_contact(
                "", "", original.name, original.address, *_first_phone(original.text[:WORDS_READ])
            ),
            vehicles=[],
            source=None,
            comments=original.text,
            forwarded=True,
        )
    body = parsed.new_text or parsed.text
    name, address = reply_to or (parsed.from_name, parsed.from_address)
    return _Reading(
        # The phone is often in the signature, below what the customer just wrote.
        contact=_contact("", "", name, address, *_first_phone(body[:WORDS_READ], _above_quote(parsed.text))),
        vehicles=[],
        source=None,
        comments=unreadable_adf or body,
    )


def _adf_reading(adf: AdfLead) -> _Reading:
    person = adf.contact or AdfContact()
    return _Reading(
        contact=_contact(
            person.first_name,
            person.last_name,
            person.full_name,
            _address(person.email),
            *_first_phone(*(phone.number for phone in person.phones)),
        ),
        vehicles=[_adf_vehicle(v) for v in adf.vehicles],
        source=adf.source or None,
        comments=adf.comments or "\n\n".join(v.comments for v in adf.vehicles if v.comments),
    )


def _by_customer(adf: AdfLead) -> list[AdfLead]:
    """The document's prospects by customer: a lead provider's batch holds several customers'
    inquiries; one customer's prospects share an email, a phone or a name (one may give only the
    email, another only the phone). A prospect giving neither email nor phone is the customer's of
    its name, else the first customer's with contact details (as in a document about one customer):
    a group without contact details never takes a prospect of another name that has them."""
    groups: list[tuple[set[str], list[AdfProspect]]] = []
    for prospect in adf.prospects:
        person = prospect.contact or AdfContact()
        email = normalize_email(_address(person.email))
        phone, _extension = _first_phone(*(phone.number for phone in person.phones))
        name = name_key(person.first_name, person.last_name) or name_key(person.full_name, "")
        contact = {f"email:{email}" if email else "", f"phone:{phone}" if phone else ""} - {""}
        keys = contact | ({f"name:{name}"} if name else set())
        matching = [g for g in groups if g[0] & keys]
        if not matching and not contact and groups:
            with_contact = [g for g in groups if any(not key.startswith("name:") for key in g[0])]
            (with_contact or groups)[0][1].append(prospect)  # its name is not that customer's
            continue
        if not matching:
            groups.append((keys, [prospect]))
            continue
        # One prospect may join two groups (the email of one, the phone of the other): one customer.
        first, *others = matching
        first[0].update(keys)
        for other in others:
            first[0].update(other[0])
            first[1].extend(other[1])
        groups = [g for g in groups if not any(g is other for other in others)]
        first[1].append(prospect)
    order = {id(prospect): index for index, prospect in enumerate(adf.prospects)}
    by_customer = [AdfLead(prospects=sorted(group, key=lambda p: order[id(p)])) for _, group in groups]
    return by_customer or [adf]


def _address(written: str) -> str:
    """The address alone in what a sender wrote ("mailto:…", "Bob Smith <bob@…>"); "" for none."""
    email = EMAIL.search(written)
    return email.group(0) if email else ""


# Public mailbox providers, the big ones and Canada's internet providers' (and their regional
# subdomains: nb.sympatico.ca).
PUBLIC_MAIL_DOMAINS = {
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com", "yahoo.com",
    "yahoo.ca", "ymail.com", "rocketmail.com", "icloud.com", "me.com", "mac.com", "aol.com", "aol.ca",
    "gmx.com", "gmx.net", "mail.com", "fastmail.com", "fastmail.fm", "protonmail.com", "proton.me",
    "videotron.ca", "sympatico.ca", "bell.net", "rogers.com", "shaw.ca", "telus.net", "cogeco.ca",
    "cgocable.ca", "globetrotter.net", "eastlink.ca", "sasktel.net", "mts.net", "xplornet.com",
}  # fmt: skip
# …and their national sites: yahoo.fr, hotmail.ca, live.fr, outlook.fr, gmx.de.
PUBLIC_MAIL_PREFIXES = ("yahoo.", "hotmail.", "live.", "outlook.", "gmx.")


def shared_mail_domain(domain: str) -> bool:
    """Whether people who have nothing to do with each other share this mail domain (a big mail
    provider's, an internet provider's): its addresses tell nothing of a company, nor of a store
    whose own address is there."""
    domain = domain.lower()
    return domain.startswith(PUBLIC_MAIL_PREFIXES) or any(
        domain == known or domain.endswith(f".{known}") for known in PUBLIC_MAIL_DOMAINS
    )


def _at_store(address: str) -> bool:
    """An address of the store's own domain: its staff, its website's notifications, itself. None
    when the store writes from a big mail provider's domain: its customers there are not its staff."""
    domain = _store_domain()
    return bool(domain) and not shared_mail_domain(domain) and address.lower().endswith(f"@{domain}")


def _from_department(address: str, addresses: Collection[str] | None) -> bool:
    """Whether the address is one of the departments' forward addresses (lowercase), on the store's
    domain or not (a partner body shop, a service desk elsewhere): what comes from there is the
    department's mail, its mailbox forwarding back what the store sent it among it."""
    return bool(address) and addresses is not None and address.lower() in addresses


def _from_staff(address: str, staff_addresses: Collection[str] | None) -> bool:
    """Whether an address of the store's domain is a member of staff's or a department's. Any other
    there (a website form's noreply, a mistyped name) is nobody's on staff."""
    if staff_addresses is None:
        return staff_address_exists(address=address)
    return address.lower() in staff_addresses


def outside_reply_to(parsed: ParsedMail) -> tuple[str, str] | None:
    """(name, address) to answer, when the mail asks for answers to go to someone outside the store
    other than its sender: the customer behind a website's notification sent in the store's name,
    or behind a classifieds site's notice (LesPAC, Kijiji: "notifications@…", Reply-To the buyer)."""
    for name, address in getaddresses([parsed.headers.get("reply-to", "")]):
        address = normalize_email(address)
        if address and "@" in address and not _at_store(address) and address != parsed.from_address:
            return name, address
    return None


def staff_forward(parsed: ParsedMail) -> ForwardedOriginal | None:
    """The customer's message a member of staff (an address at the store's own domain) forwarded,
    attached or inline; None for anything else, and for a forward of the store's own mail."""
    if not _at_store(parsed.from_address):
        return None
    attached = next(
        (a.data for a in parsed.attachments if a.content_type == "message/rfc822" and a.data), None
    )
    if attached:
        inner = parse_message(attached)
        original = ForwardedOriginal(inner.from_name, inner.from_address, inner.new_text or inner.text)
    else:
        original = forwarded_original(parsed.subject, parsed.text)
    if original is None or not original.address or _at_store(original.address):
        return None
    return original


# "the 2024 RAV4", "le Tucson 2023": a vehicle named as one of the stock; "my 2018 Corolla" is the
# customer's own (service, parts), so it does not count.
LISTED_VEHICLE = re.compile(
    r"(?<!\w)(?:(?:the|this|that|your) (?:19|20)\d\d|(?:le|la|ce|cette|votre) (?:[\w-]+ ){1,2}(?:19|20)\d\d)(?!\w)"
)


def _wants_vehicle(vehicles: list[dict], text: str, *, from_form: bool) -> bool:
    """Whether the customer asks about a vehicle to buy, which weighs as a sales word. A form's
    vehicle counts when it is one of the stock (stock number, VIN, new or used), not the customer's
    own car named for a repair; a plain mail's when it names a listing."""
    if vehicles and not from_form:
        return any(v["interest"] in ("buy", "lease", "test-drive") for v in vehicles)
    if any(
        v["interest"] in ("buy", "lease", "test-drive")
        and (v.get("stock") or v.get("vin") or v.get("status"))
        for v in vehicles
    ):
        return True
    folded = fold(text)
    return bool(phrases_found(folded, LISTING_PHRASES) or LISTED_VEHICLE.search(folded))


def triage(
    parsed: ParsedMail,
    *,
    rules: Iterable | None = None,
    staff_addresses: Collection[str] | None = None,
    department_addresses: Collection[str] | None = None,
) -> Triage:
    """Decide what this message is. `rules` are RoutingRule rows (None: the active ones in the DB);
    `staff_addresses` the staff's and departments' addresses, lowercase (None: looked up in the DB);
    `department_addresses` the departments' forward addresses, lowercase, whatever their domain
    (None: those among `staff_addresses`)."""
    if rules is None:
        rules = _load_rules()
    rules = sorted((r for r in rules if r.active), key=lambda r: (r.order, r.pk or 0))
    adf, unreadable_adf = _find_adf(parsed)
    form = None if adf or unreadable_adf else _notification_form(parsed)
    reply_to = outside_reply_to(parsed)
    reading = _read(parsed, adf, unreadable_adf, form, reply_to)
    # What a person would read to decide; the start of a very long mail is enough.
    words = reading.comments if (adf or form or reading.forwarded) else parsed.new_text or parsed.text
    decision_text = f"{parsed.subject}\n{without_sign_off(words) or words}"[:WORDS_READ]
    wants_vehicle = _wants_vehicle(reading.vehicles, decision_text, from_form=bool(form))

    result = Triage(
        kind=MailKind.LEAD,
        department=SALES,
        # A form with no comments is still in its labels' language (« Prénom », « Courriel »), an ADF
        # lead in its subject and values, never in its tags (<email>, <price> are English words).
        language=detect_language(
            decision_text
            if words.strip()
            else f"{parsed.subject}\n{html_to_text(parsed.text) if adf or unreadable_adf else parsed.text}"
        ),
        contact=reading.contact,
        vehicles=reading.vehicles,
        source=reading.source,
        comments=reading.comments or "",
        inquiry_type=detect_inquiry_type(decision_text, reading.vehicles),
        reply_lead_id=next(filter(None, map(lead_id_from_address, parsed.recipients)), None),
        in_reply_to_ids=[i for i in dict.fromkeys([parsed.in_reply_to, *parsed.references]) if i],
        forwarded_by=parsed.from_address if reading.forwarded else "",
        answers_store_mail=bool(REPLY_SUBJECT.match(parsed.subject) or _quotes_store_mail(parsed)),
        other_customers=[
            {
                "contact": other.contact,
                "vehicles": other.vehicles,
                "source": other.source,
                "comments": other.comments,
                "inquiry_type": detect_inquiry_type(f"{parsed.subject}\n{other.comments}", other.vehicles),
            }
            for other in reading.others
        ],
    )
    machine_made = bool(adf or unreadable_adf or form)
    # Only what the writer wrote now: a reply that quotes the store's mail quotes its unsubscribe line.
    if not (machine_made or reading.forwarded) and unsubscribe_request(parsed.subject, parsed.new_text):
        result.unsubscribe = True
        result.unsubscribe_only = asks_nothing_else(decision_text, wants_vehicle=wants_vehicle)

    # Bounces, automatic answers and our own mail first: answering them could start a mail loop.
    if signal := bounce_signal(parsed):
        _add_bounce_details(result, parsed)
        return _set(result, MailKind.BOUNCE, None, signal)
    if signal := answering_signal(parsed, machine_made_lead=machine_made):
        return _set(result, MailKind.AUTO_REPLY, None, signal)
    if _own_mail(parsed, machine_made_lead=machine_made, reply_to=reply_to):
        return _set(result, MailKind.AUTO_REPLY, None, "own-mail")  # our own mail come back: a loop
    departments = staff_addresses if department_addresses is None else department_addresses
    if not (machine_made or reading.forwarded) and _from_department(parsed.from_address, departments):
        # A department's mailbox writing or forwarding back what it got (the store's forward among
        # it): never a customer's inquiry, never forwarded again (a rule would forward it for ever).
        return _set(result, MailKind.AUTO_REPLY, None, "staff-mail")

    bulk = bulk_signal(parsed, machine_made_lead=machine_made)
    folded_text = fold(decision_text)
    for rule in rules:
        if _rule_matches(rule, parsed, folded_text):
            if _leads_from_providers(rule, parsed.from_address) and not (machine_made or reply_to):
                # The provider's own notice (an ad expiring, a report, a digest): nobody's inquiry.
                return _set(result, MailKind.AUTO_REPLY, None, "provider-notice")
            return _apply_rule(
                result,
                rule,
                parsed,
                decision_text,
                wants_vehicle,
                answerable=not (bulk or result.unsubscribe),
            )

    if bulk:
        return _set(result, MailKind.AUTO_REPLY, None, bulk)
    if not (machine_made or reading.forwarded or reply_to) and _at_store(parsed.from_address):
        if _from_staff(parsed.from_address, staff_addresses):
            # A salesperson's own mail (a copy of what they wrote a customer, a note to a colleague):
            # no customer's inquiry, nobody to acknowledge.
            return _set(result, MailKind.AUTO_REPLY, None, "staff-mail")
        # The store's own mailer passing on a visitor's words (a form's noreply): neither the name
        # nor the address is the visitor's; their words and phone are.
        result.contact |= {"first_name": None, "last_name": None, "name": None, "email": None}
    if result.reply_lead_id:
        return _set(result, MailKind.REPLY, SALES, "reply-token")
    domain = _store_domain()
    if domain and any(i.lower().endswith(f"@{domain}>") for i in result.in_reply_to_ids):
        return _set(result, MailKind.REPLY, SALES, "in-reply-to")
    result.acknowledge = True
    if adf or unreadable_adf:
        return _set(result, MailKind.LEAD, SALES, "adf" if adf else "adf-unreadable")
    department, signal = detect_department(decision_text, wants_vehicle=wants_vehicle)
    kind = MailKind.LEAD if department == SALES else MailKind.FORWARD
    # Nobody who asked for no more mail gets a sales acknowledgement.
    result.acknowledge = kind == MailKind.LEAD and not result.unsubscribe
    return _set(result, kind, department, f"web-form+{signal}" if form else signal)


def _own_mail(parsed: ParsedMail, *, machine_made_lead: bool, reply_to: tuple[str, str] | None) -> bool:
    """The store's own mail come back (from its address, or through it per X-Loop). A website
    that sends its form From the store's address is not: a machine-made lead that is a fresh
    message — what the store sends itself (acknowledgements, forwards, replies) is marked
    Auto-Submitted or answers a thread."""
    store = store_address().lower()
    if not store:
        return False
    if store in parsed.headers.get("x-loop", "").lower():
        return True
    if parsed.from_address != store:
        return False
    automatic = _auto_submitted(parsed) not in ("", "no")
    fresh = not (automatic or parsed.in_reply_to or parsed.references)
    return not ((machine_made_lead or reply_to) and fresh)


def _add_bounce_details(result: Triage, parsed: ParsedMail) -> None:
    result.bounce_recipients, result.bounce_permanent = bounce_details(parsed)
    # The returned message's ids find the outbound Message that failed.
    quoted_ids = MESSAGE_ID_LINE.findall(parsed.text[:WORDS_READ])
    result.in_reply_to_ids = list(
        dict.fromkeys([*result.in_reply_to_ids, *parsed.returned_message_ids, *quoted_ids])
    )


def _set(result: Triage, kind: str, department: str | None, rule: str) -> Triage:
    result.kind, result.department, result.rule = str(kind), department, rule
    return result


def _apply_rule(
    result: Triage, rule, parsed: ParsedMail, text: str, wants_vehicle: bool, *, answerable: bool
) -> Triage:
    kind = rule.kind
    if kind in (MailKind.AUTO_REPLY, MailKind.BOUNCE):
        department = None
        if kind == MailKind.BOUNCE:
            _add_bounce_details(result, parsed)
    elif rule.department:
        department = rule.department
    elif kind in (MailKind.LEAD, MailKind.REPLY):
        department = SALES
    else:
        department = detect_department(text, wants_vehicle=wants_vehicle)[0]
    # Bulk and list mail a rule takes is still never answered automatically, nor a request for no more mail.
    result.acknowledge = bool(rule.acknowledge) and kind == MailKind.LEAD and answerable
    return _set(result, kind, department, f"rule:{rule.name}")
