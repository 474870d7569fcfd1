"""Answering a lead by email: reply templates and their merge fields, queueing and sending.

A reply is stored first (queued, with its Message-ID already chosen) and sent by a Celery task;
so is the automatic acknowledgement of a new lead, by the same task.
The send is exactly-once: the row moves queued → sending → sent | failed under a row lock, and a
task that finds the row anywhere but "queued" sends nothing. A row found still "sending" means a
worker stopped mid-send; SMTP cannot tell whether the customer got it, so it becomes failed with
an explanation for the supervisor to check, never resent blindly. Forwards to a department
(services.mail.forward_send) take the same steps, through queued_mail_deliver.

A mail server that cannot be reached took nothing: the row stays queued, after the task's last
retry too, and the periodic sweeps (messages_sweep, mail.inbound_requeue_waiting) queue it again
until the server answers, so an outage of hours loses nothing. One still unsent MAIL_GIVE_UP_AFTER
after it was written fails instead, saying so: an answer days late may no longer fit.
"""

import re
import smtplib
from collections.abc import Callable
from datetime import timedelta
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMessage, mailers
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.db.models import Max, Model, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop, ngettext

from dealership.queueing import queue_on_commit
from dealership.templatetags.store_tags import local_date, money
from inventory.models import VehicleStatus

from ..inventory_link import lead_vehicles_with_stock, photo_links
from ..models import Channel, Direction, InquiryType, Language, Lead, Message, ReplyTemplate
from ..models.followup import plan_text
from ..models.leads import OPEN_LEAD_STATUSES
from ..selectors.leads import lead_customer_last_mail, lead_reply_address, lead_visible_to, person_name
from ..selectors.replies import reply_template_plans, reply_templates_changed
from ..threading import new_message_id, references_answering, reply_subject, threaded_email
from .consent import commercial_email_headers_matching, commercial_email_refusal, commercial_footer
from .leads import ContactOutcome, lead_merged_refusal, lead_record_answer

MERGE_FIELD = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
# A field written with one brace on each side, as campaigns write theirs: "{first_name}".
SINGLE_BRACE_FIELD = re.compile(r"(?<!\{)\{\s*([a-z_]+)\s*\}(?!\})")
# Template markup of any kind: a field ({{ … }}), a tag ({% … %}), a brace pair left open, or a
# single-brace field (nothing fills it: it would reach the customer as typed).
MARKUP = re.compile(r"\{\{[^{}]*\}\}|\{%[^{}]*%\}|\{\{|\}\}|\{%|%\}|" + SINGLE_BRACE_FIELD.pattern)

# Merge fields offered in templates, with what each becomes.
MERGE_FIELDS = {
    "first_name": "The customer's first name",
    "customer_name": "The customer's full name",
    "vehicle": "The vehicle asked about (year, make, model, trim)",
    "price": "Its price",
    "availability": "A sentence on whether it is available (sold, on hold, on order), with its price",
    "photo_links": "Links to its photos",
    "signature": "Your name, title, phone and email",
    "store_name": "The store's name",
    "store_address": "The store's address",
    "store_phone": "The store's phone",
    "store_website": "The store's website",
}

# A row found still "sending": its worker died with the mail in hand, so it is never sent again.
INTERRUPTED_SEND = gettext_noop("Interrupted while sending; not sent again in case it went out.")
UNCERTAIN_SEND = gettext_noop(
    "Sending was interrupted after the message was handed to the mail server; the customer may or "
    "may not have received it. Check with the customer before sending it again."
)
# A queued message untouched for longer than the longest retry wait has lost its task (the broker
# was down when it was queued) or has run out of retries while the mail server was down; the sweep
# queues it again.
QUEUED_GRACE_MINUTES = 40
# Mail that could not go for this long is not sent any more (an answer, a price, an acknowledgement
# days late may no longer fit): it fails with WAITED_TOO_LONG for a person to decide.
MAIL_GIVE_UP_AFTER = timedelta(days=2)
WAITED_TOO_LONG = gettext_noop(
    "It could not be sent for two days, so it was not sent this late. Send it again if it is still needed."
)
# The server said no to this message: trying again would get the same answer.
REFUSALS = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError)


# An identical answer by the same person within this time is the same answer submitted twice.
RESUBMITTED_WITHIN = timedelta(minutes=10)

# The longest subject the composer takes.
REPLY_SUBJECT_MAX_LENGTH = 200
# How much of the customer's mail an answer quotes: enough to show what it answers.
QUOTED_LINES = 20

# Stock statuses of a vehicle the customer cannot have now: a draft about it needs checking.
UNAVAILABLE = (VehicleStatus.SOLD, VehicleStatus.ON_HOLD)


# A line of the customer's mail quoted in an answer, and the place it is kept aside at meanwhile.
QUOTED_LINE = re.compile(r"(?m)^>.*$")
QUOTED_PLACE = re.compile(r"\x00(\d+)\x00")


class ReplyError(ValueError):
    pass


def _when(message: Message) -> str:
    """When a message came, as a refusal names it."""
    return local_date(timezone.localtime(message.occurred_at), "D M j, g:i A")


class HeldMeanwhile(ReplyError):
    """An answer held because of a message that came after the page it was written on was opened,
    for the sender to read first. `answer`: that message, the one "Send anyway" says was read;
    `readable_elsewhere`: the customer's other inquiry it is on, when the sender may open it there."""

    readable_elsewhere: int | None = None

    def __init__(self, refusal: str, *, answer: Message):
        super().__init__(refusal)
        self.answer = answer


class AnsweredMeanwhile(HeldMeanwhile):
    """Someone answered the customer (by mail, phone, text or in person, on this inquiry or another
    open one of theirs) after the page the answer was written on was opened: sending it too would
    give the customer two answers, perhaps with two prices. `lead`: the inquiry the answer is
    refused on. `answer_readable`: whether the sender may open the inquiry the other answer is on
    (always so of `lead`); when not, they are told whom to ask instead of where to read it."""

    def __init__(self, answer: Message, *, lead: Lead | None = None, answer_readable: bool = True):
        facts = {"who": person_name(answer.author), "when": _when(answer)}
        if lead is not None and answer.lead_id != lead.pk:
            facts["number"] = answer.lead_id
            if answer_readable:
                refusal = gettext(
                    "Not sent: %(who)s answered this customer's other inquiry (lead %(number)s) on "
                    "%(when)s, after this page was opened. Read that answer there; to send yours as "
                    "well, tick “Send anyway”."
                )
            else:
                refusal = gettext(
                    "Not sent: %(who)s answered this customer's other inquiry (lead %(number)s) on "
                    "%(when)s, after this page was opened. You cannot open that lead: ask %(who)s what "
                    "they told the customer; to send yours as well, tick “Send anyway”."
                )
        else:
            refusal = gettext(
                "Not sent: %(who)s answered this customer on %(when)s, after this page was opened. "
                "Read that answer below; to send yours as well, tick “Send anyway”."
            )
        super().__init__(refusal % facts, answer=answer)
        if lead is not None and answer.lead_id != lead.pk and answer_readable:
            self.readable_elsewhere = answer.lead_id


class CustomerWroteMeanwhile(HeldMeanwhile):
    """The customer wrote again on the inquiry after the page the answer was written on was opened:
    the answer may well answer only their earlier question. `answer`: their new message."""

    def __init__(self, message: Message):
        super().__init__(
            gettext(
                "Not sent: the customer wrote again after this page was opened (%(when)s). Read their "
                "new message in the conversation below and change your answer if need be; to send it, "
                "tick “Send anyway”."
            )
            % {"when": _when(message)},
            answer=message,
        )


class StockChangedMeanwhile(ReplyError):
    """A vehicle the customer asks about was sold or put on hold after the page the answer was
    written on was opened: the answer may still offer it."""

    def __init__(self, vehicles: list[tuple]):
        self.vehicles = vehicles
        super().__init__(
            ngettext(
                "Not sent: %(vehicles)s changed in stock after this page was opened. Read your answer "
                "again with that in mind, then send it.",
                "Not sent: %(vehicles)s changed in stock after this page was opened. Read your answer "
                "again with them in mind, then send it.",
                len(vehicles),
            )
            % {
                "vehicles": ", ".join(
                    f"{str(vehicle) or stock} ({stock.get_status_display().lower()})"
                    for vehicle, stock in vehicles
                )
            }
        )


class TemplateChangedMeanwhile(ReplyError):
    """A reply template was saved by someone else after the page it is being edited on was opened:
    saving over it would throw their change away unseen. `current`: the template as it is now."""

    def __init__(self, current: ReplyTemplate):
        self.current = current
        super().__init__(
            gettext(
                "Not saved: someone changed this template on %(when)s, after this page was opened. "
                "Their version is shown above and yours is kept in the form; to put yours in its "
                "place, save again."
            )
            % {"when": local_date(timezone.localtime(current.updated_at), "D M j, g:i A")}
        )


class MailServerUnavailable(Exception):
    """The mail server could not be reached; nothing was handed over, so trying later is safe."""


_EN, _FR = Language.ENGLISH, Language.FRENCH
DEFAULT_TEMPLATES: dict[tuple[str, str], tuple[str, str, str]] = {
    (InquiryType.PRICE, _EN): (
        "Price and availability",
        "Your {{ vehicle }} at {{ store_name }}",
        "Hello {{ first_name }},\n\nThank you for your interest in the {{ vehicle }}. {{ availability }}\n"
        "{{ photo_links }}\n\n{{ signature }}",
    ),
    (InquiryType.PRICE, _FR): (
        "Prix et disponibilité",
        "Votre {{ vehicle }} chez {{ store_name }}",
        "Bonjour {{ first_name }},\n\nMerci de votre intérêt pour le {{ vehicle }}. {{ availability }}\n"
        "{{ photo_links }}\n\n{{ signature }}",
    ),
    (InquiryType.TRADE_IN, _EN): (
        "Trade-in value",
        "The value of your trade-in",
        "Hello {{ first_name }},\n\nThank you for asking about your trade-in. To give you a firm "
        "figure, our appraiser needs ten minutes with the vehicle: when could you bring it to "
        "{{ store_address }}?\n\n{{ signature }}",
    ),
    (InquiryType.TRADE_IN, _FR): (
        "Valeur d'échange",
        "La valeur de votre véhicule d'échange",
        "Bonjour {{ first_name }},\n\nMerci de votre demande d'évaluation. Pour vous donner un "
        "montant ferme, notre évaluateur a besoin de dix minutes avec le véhicule\u00a0: quand "
        "pourriez-vous l'apporter au {{ store_address }}\u00a0?\n\n{{ signature }}",
    ),
    (InquiryType.FINANCING, _EN): (
        "Financing and lease payments",
        "Payments on the {{ vehicle }}",
        "Hello {{ first_name }},\n\nThank you for asking about financing the {{ vehicle }}. {{ availability }}\n"
        "Tell me your preferred term and down payment and I will send you the exact finance and lease "
        "payments.\n\n{{ signature }}",
    ),
    (InquiryType.FINANCING, _FR): (
        "Financement et location",
        "Paiements pour le {{ vehicle }}",
        "Bonjour {{ first_name }},\n\nMerci de votre demande de financement pour le {{ vehicle }}. "
        "{{ availability }}\nIndiquez-moi la durée et le comptant souhaités et je vous enverrai les "
        "paiements exacts, en financement et en location.\n\n{{ signature }}",
    ),
    (InquiryType.TEST_DRIVE, _EN): (
        "Test drive",
        "Your test drive of the {{ vehicle }}",
        "Hello {{ first_name }},\n\nThank you for asking to test drive the {{ vehicle }}. {{ availability }}\n"
        "We are at {{ store_address }}, {{ store_phone }}.\n\n{{ signature }}",
    ),
    (InquiryType.TEST_DRIVE, _FR): (
        "Essai routier",
        "Votre essai routier du {{ vehicle }}",
        "Bonjour {{ first_name }},\n\nMerci de votre demande d'essai routier du {{ vehicle }}. "
        "{{ availability }}\nNous sommes au {{ store_address }}, {{ store_phone }}.\n\n{{ signature }}",
    ),
    (InquiryType.GENERAL, _EN): (
        "General answer",
        "Your question to {{ store_name }}",
        "Hello {{ first_name }},\n\nThank you for contacting {{ store_name }}. I will be glad to help: "
        "what is the best time to reach you by phone?\n\n{{ signature }}",
    ),
    (InquiryType.GENERAL, _FR): (
        "Réponse générale",
        "Votre question à {{ store_name }}",
        "Bonjour {{ first_name }},\n\nMerci d'avoir communiqué avec {{ store_name }}. Je serai heureux "
        "de vous aider\u00a0: quel est le meilleur moment pour vous joindre par téléphone\u00a0?\n\n{{ signature }}",
    ),
}


@transaction.atomic
def reply_templates_ensure_defaults() -> int:
    """Give every inquiry type a template in English and in French; returns how many were created.

    A pair that already has any template (even an edited or renamed one) is left alone.
    """
    created = 0
    for (inquiry_type, language), (name, subject, body) in DEFAULT_TEMPLATES.items():
        if ReplyTemplate.objects.filter(inquiry_type=inquiry_type, language=language).exists():
            continue
        ReplyTemplate.objects.create(
            name=name, inquiry_type=inquiry_type, language=language, subject=subject, body=body
        )
        created += 1
    if created:
        reply_templates_changed()
    return created


def merge_field_tags(names) -> str:
    """How merge fields are written in a template: "{{ first_name }}, {{ vehicle }}"."""
    return ", ".join("{{ " + name + " }}" for name in names)


def unknown_markup(text: str) -> list[str]:
    """The markup of a text that no merge field fills, as written: a misspelt or unknown field
    ({{ prénom }}), a field with single braces ({first_name}), a tag, a stray brace. It would reach
    the customer as it is."""
    known_removed = MERGE_FIELD.sub(
        lambda match: "" if match.group(1) in MERGE_FIELDS else match.group(0), text
    )
    return list(dict.fromkeys(match.group(0) for match in MARKUP.finditer(known_removed)))


def single_brace_fields(markup: list[str]) -> list[str]:
    """The merge fields among `markup` (unknown_markup) written with single braces: "{first_name}"."""
    matches = (SINGLE_BRACE_FIELD.fullmatch(text) for text in markup)
    return [match.group(1) for match in matches if match and match.group(1) in MERGE_FIELDS]


# A field with the space before it, or with the line break before it when it has a line of its own:
# a field with nothing to fill in takes that away with it, so that "Hello {{ first_name }}," reads
# "Hello," for a customer known by their address only, and a vehicle without photos leaves no gap.
MERGE_FIELD_SPACED = re.compile(r"(\n(?=\{\{\s*[a-z_]+\s*\}\}\n)| ?)" + MERGE_FIELD.pattern)


def merge_fields_render(text: str, fields: dict[str, str]) -> str:
    def filled(match: re.Match) -> str:
        space, name = match.groups()
        if name not in fields:
            return match.group(0)
        return f"{space}{fields[name]}" if fields[name] else ""

    return MERGE_FIELD_SPACED.sub(filled, text)


def merge_fields_unfilled(text: str, fields: dict[str, str]) -> list[str]:
    """The merge fields of a text that have nothing to fill in for this lead (no price, no photos)."""
    return list(dict.fromkeys(name for name in MERGE_FIELD.findall(text) if fields.get(name) == ""))


def _price(amount, language: str) -> str:
    """The price as the pages write it, in the answer's language: "$29,999.99", "34 995 $"; none
    for no price or a zero (what lead providers send for "call for price")."""
    if not amount:
        return ""
    with translation.override(language):
        return money(amount)


# What the customer is told of the vehicle asked about, by its stock status (None: not matched to
# stock, or no vehicle named: nothing is promised before it is checked), in each language; "{price}"
# is dropped, with its comma, when there is no price. It carries the invitation to come and see the
# vehicle, so that a sold or held one is never offered for a viewing: a similar one is, instead.
_AVAILABILITY = {
    _EN: {
        None: "I am checking that it is still available{price}, and I will confirm it with you shortly. "
        "When would you like to come and see it?",
        VehicleStatus.IN_STOCK: "It is available{price}, and I can hold it for you. When would you like to "
        "come and see it?",
        VehicleStatus.ON_ORDER: "It is on order and arriving soon{price}.",
        VehicleStatus.ON_HOLD: "It is on hold for another customer at the moment: I will let you know as "
        "soon as it is free, and in the meantime I can find you a similar one.",
        VehicleStatus.SOLD: "It has just been sold, but I can find you a similar one.",
    },
    _FR: {
        None: "Je vérifie qu'il est toujours disponible{price}, et je vous le confirme sous peu. "
        "Quand aimeriez-vous venir le voir\u00a0?",
        VehicleStatus.IN_STOCK: "Il est disponible{price}, et je peux le réserver pour vous. Quand "
        "aimeriez-vous venir le voir\u00a0?",
        VehicleStatus.ON_ORDER: "Il est en commande et arrive bientôt{price}.",
        VehicleStatus.ON_HOLD: "Il est réservé pour un autre client en ce moment\u00a0: je vous avertirai dès "
        "qu'il se libère, et d'ici là je peux vous en trouver un semblable.",
        VehicleStatus.SOLD: "Il vient d'être vendu, mais je peux vous en trouver un semblable.",
    },
}


def _availability(status: str | None, price: str, language: str) -> str:
    sentences = _AVAILABILITY[_FR if language == _FR else _EN]
    if not price:
        at = ""
    elif language == _FR:
        at = f", au prix de {price}"
    else:
        at = f", at {price}"
    return sentences.get(status, sentences[None]).format(price=at)


def _signature(user) -> str:
    staff = getattr(user, "staff", None)
    lines = [user.get_full_name() or user.get_username()]
    if staff and staff.title:
        lines.append(staff.title)
    lines.append(settings.STORE["name"])
    if staff and staff.phone:
        lines.append(staff.phone)
    if user.email:
        lines.append(user.email)
    return "\n".join(lines)


def merge_fields_for(
    *, lead: Lead, sender, language: str, vehicles: list[tuple] | None = None
) -> dict[str, str]:
    """The values of every merge field for one lead, answered by `sender`, in `language`.

    `vehicles`: the lead's vehicles beside their stock (lead_vehicles_with_stock), when the caller
    has them already."""
    customer = lead.customer
    if vehicles is None:
        vehicles = lead_vehicles_with_stock(lead.vehicles.all())
    wanted, stock = next(
        ((v, s) for v, s in vehicles if not v.is_offered),
        (None, None),
    )
    price = _price(getattr(stock, "price", None) or (wanted.price if wanted else None), language)
    return {
        "first_name": customer.first_name or customer.full_name,
        "customer_name": customer.full_name,
        # Without a named vehicle the sentence still reads: "your vehicle", "votre véhicule".
        "vehicle": (str(wanted) if wanted else "") or ("véhicule" if language == "fr" else "vehicle"),
        "price": price,
        "availability": _availability(getattr(stock, "status", None), price, language),
        # A sold vehicle's photos would only show what the customer cannot have.
        "photo_links": "\n".join(photo_links(stock))
        if getattr(stock, "status", None) != VehicleStatus.SOLD
        else "",
        "signature": _signature(sender),
        "store_name": settings.STORE["name"],
        "store_address": settings.STORE["address"],
        "store_phone": settings.STORE["phone"],
        "store_website": settings.STORE["website"],
    }


def vehicles_unavailable(vehicles: list[tuple]) -> list[tuple]:
    """Of a lead's vehicles beside their stock (lead_vehicles_with_stock), those the customer asks
    about whose stock is sold or on hold: an answer about them is to be read before it is sent."""
    return [
        (vehicle, stock)
        for vehicle, stock in vehicles
        if stock and not vehicle.is_offered and stock.status in UNAVAILABLE
    ]


# The line before a quoted mail, in the answer's language.
_QUOTE_HEADER = {_EN: "On {date}, {name} wrote:", _FR: "Le {date}, {name} a écrit\u00a0:"}


def _quoted(mail: Message, language: str, customer_name: str) -> str:
    """The customer's own words in `mail` (not what they quoted) as an answer quotes them, below who
    wrote them (as their mail program names them, else `customer_name`) and when, each line behind
    "> "; "" when they wrote nothing."""
    lines = (mail.new_text or mail.body_text).strip().splitlines()
    if not lines:
        return ""
    if len(lines) > QUOTED_LINES:
        lines = [*lines[:QUOTED_LINES], "[…]"]
    name, address = parseaddr(mail.from_address)
    with translation.override(language):
        date = local_date(timezone.localtime(mail.occurred_at), "D M j, Y, g:i A")
    header = _QUOTE_HEADER[_FR if language == _FR else _EN].format(
        date=date, name=name or customer_name or address
    )
    return "\n".join([header, *(f"> {line}".rstrip() for line in lines)])


def reply_draft(
    *,
    template: ReplyTemplate | None,
    lead: Lead,
    sender,
    vehicles: list[tuple] | None = None,
    messages: list[Message] | None = None,
    other_emails: set[str] | None = None,
) -> dict[str, str]:
    """Subject and body of a template filled in for this lead, ready to edit, and the merge fields
    it uses that had nothing to fill in (`unfilled`): the text may need words of its own there.

    When the customer wrote by mail, the answer takes their subject ("Re: …": their mail program
    keeps it in the same conversation) and quotes their last mail below, where staff may cut it.
    `vehicles`, `messages`, `other_emails`: the lead's vehicles beside their stock, its messages and
    the customer's other addresses, when the caller has read them already."""
    if template is None:
        return {"subject": "", "body": "", "unfilled": []}
    fields = merge_fields_for(lead=lead, sender=sender, language=template.language, vehicles=vehicles)
    subject = merge_fields_render(template.subject, fields)
    body = merge_fields_render(template.body, fields)
    if answered := lead_customer_last_mail(lead=lead, messages=messages, other_emails=other_emails):
        subject = reply_subject(answered.subject)[:REPLY_SUBJECT_MAX_LENGTH] or subject
        if quote := _quoted(answered, template.language, lead.customer.full_name):
            body = f"{body}\n\n{quote}"
    return {
        "subject": subject,
        "body": body,
        "unfilled": merge_fields_unfilled(f"{template.subject}\n{template.body}", fields),
    }


def _calls_ending(outcomes) -> list[str]:
    """The subjects of calls logged with these outcomes: contact_log keeps a call's outcome as its
    subject, in English (ContactOutcome.CHOICES)."""
    return [dict(ContactOutcome.CHOICES)[outcome] for outcome in sorted(outcomes)]


# What counts as a person's answer to the customer, here and wherever it is asked (a page's answer
# held meanwhile, an acknowledgement too late, the follow-up plans): what the first response counts
# (contact_log, message_deliver). A mail queued or sent (not the automatic acknowledgement or
# follow-ups, nor what the server refused), a text, a visit, a call that reached them or left a
# message (ContactOutcome.ANSWERED). _is_answer says it of a message read, ANSWERS of a query.
ANSWERING_CHANNELS = (Channel.TEXT, Channel.VISIT)
ANSWERING_CALLS = _calls_ending(ContactOutcome.ANSWERED)
ANSWERS = Q(direction=Direction.OUTBOUND) & (
    (Q(channel=Channel.EMAIL, author__isnull=False) & ~Q(send_status=Message.SendStatus.FAILED))
    | Q(channel__in=ANSWERING_CHANNELS)
    | Q(channel=Channel.PHONE, subject__in=ANSWERING_CALLS)
)


def _is_answer(message: Message) -> bool:
    """Whether a message already read is one of ANSWERS."""
    if message.direction != Direction.OUTBOUND:
        return False
    if message.channel == Channel.EMAIL:
        return message.author_id is not None and message.send_status != Message.SendStatus.FAILED
    return message.channel in ANSWERING_CHANNELS or (
        message.channel == Channel.PHONE and message.subject in ANSWERING_CALLS
    )


# Of ANSWERS, those the customer took part in: they spoke with someone on the phone or came in.
# A voicemail, a text or an email answers them without a word of theirs: the follow-up plans go on
# after those (automatic emails would talk past only what the customer said).
ANSWERED_IN_PERSON = ANSWERS & (
    Q(channel=Channel.VISIT) | Q(channel=Channel.PHONE, subject__in=_calls_ending({ContactOutcome.REACHED}))
)


def reply_last_answer_id(*, lead: Lead, messages: list[Message] | None = None) -> int:
    """The latest message an answer written on the lead's page is checked against (0: none), as the
    page shows the lead (reply_queue's `shown_answer`): the latest answer to the customer, on this
    inquiry or another of theirs, or the latest message the customer wrote on this one. Message ids
    only grow, so whatever is newer was written after the page. `messages`: the lead's messages
    when the caller has read them already (the timeline's)."""
    if messages is None:
        messages = Message.objects.filter(lead=lead).filter(ANSWERS | Q(direction=Direction.INBOUND))
    here = max(
        (message.pk for message in messages if _is_answer(message) or message.direction == Direction.INBOUND),
        default=0,
    )
    # Of every other inquiry of theirs, open or not: reply_queue checks only the open ones, and one
    # reopened since must not count as answered since. Most customers have no other (lead_get says).
    if not getattr(lead, "has_other_leads", True):
        return here
    elsewhere = (
        Message.objects.filter(ANSWERS, lead__customer_id=lead.customer_id)
        .exclude(lead=lead)
        .aggregate(latest=Max("pk"))["latest"]
    )
    return max(here, elsewhere or 0)


def _last_inbound_email(lead: Lead) -> Message | None:
    return (
        Message.objects.filter(lead=lead, channel=Channel.EMAIL, direction=Direction.INBOUND)
        .exclude(message_id="")
        .order_by("-occurred_at", "-pk")
        .first()
    )


@transaction.atomic
def reply_queue(
    *,
    lead: Lead,
    author,
    subject: str,
    body: str,
    language: str = Language.ENGLISH,
    shown_answer: int | None = None,
    unavailable_shown: set[int] | None = None,
) -> Message:
    """Store an email answer to the customer, threaded under their last mail, and queue its sending.

    `shown_answer`: the latest answer or message of the customer's the page it was written on showed
    (reply_last_answer_id). An answer someone gave since, by any means, on this inquiry or another
    open one of theirs refuses it (AnsweredMeanwhile), as two people answering at once would send
    the customer two answers; so does a message the customer wrote on this inquiry since
    (CustomerWroteMeanwhile): the answer may not answer it. `unavailable_shown`: the stock vehicles
    the page warned were sold or on hold; another one since refuses it (StockChangedMeanwhile).
    None: not checked."""
    from ..tasks import message_send

    if refusal := lead_merged_refusal(lead):
        raise ReplyError(refusal)
    customer = lead.customer
    # An answer to the customer's own inquiry needs no more consent than that, but there must be an
    # address, and a merged record or an address that bounced is no place to write to.
    if refusal := commercial_email_refusal(customer=customer, at=timezone.now(), transactional=True):
        raise ReplyError(gettext("Not sent: %(reason)s. Call or text them instead.") % {"reason": refusal})
    subject, body = subject.strip(), body.strip()
    if not subject or not body:
        raise ReplyError(gettext("Write a subject and a message."))
    if "\n" in subject or "\r" in subject:
        raise ReplyError(gettext("Write the subject on one line."))
    # The customer's words quoted below are theirs, braces and all: never filled in nor refused.
    quoted: list[str] = []

    def set_aside(line: re.Match) -> str:
        quoted.append(line.group(0))
        return f"\x00{len(quoted) - 1}\x00"

    body = QUOTED_LINE.sub(set_aside, body)
    if unknown := unknown_markup(subject + body):
        refusal = gettext("Fill in or remove: %(fields)s.") % {"fields": ", ".join(unknown)}
        if misspelt := single_brace_fields(unknown):
            refusal += " " + gettext("Merge fields take two braces on each side: %(fields)s.") % {
                "fields": merge_field_tags(misspelt)
            }
        raise ReplyError(refusal)
    if MERGE_FIELD.search(subject + body):  # typed by hand: filled in as a template's would be
        fields = merge_fields_for(lead=lead, sender=author, language=language)
        subject, body = merge_fields_render(subject, fields), merge_fields_render(body, fields)
    body = QUOTED_PLACE.sub(lambda place: quoted[int(place.group(1))], body)
    body_text = f"{body}\n\n{commercial_footer(customer, language=language)}"
    # The same answer sent again at once (a double click, a form sent twice) is the one queued:
    # the lead's row is locked so that two such requests take turns. One the server refused, or
    # sent to an address since corrected, is sent again.
    Lead.objects.select_for_update().get(pk=lead.pk)
    to = lead_reply_address(lead=lead)
    if already := (
        Message.objects.filter(
            lead=lead,
            direction=Direction.OUTBOUND,
            author=author,
            subject=subject,
            body_text=body_text,
            to_addresses=[to],
            occurred_at__gte=timezone.now() - RESUBMITTED_WITHIN,
        )
        .exclude(send_status=Message.SendStatus.FAILED)
        .first()
    ):
        return already
    if shown_answer is not None:
        # An answer by someone else, by any means, on this inquiry or another open one of the
        # customer's: two first answers to two inquiries of theirs are two answers too. The sender's
        # own (a call logged from the same page) is known to them. It is told of first; the
        # conversation shown with the refusal holds what the customer wrote before it, and what they
        # wrote after it is told of next.
        answered = Message.objects.filter(
            Q(lead=lead) | Q(lead__customer_id=lead.customer_id, lead__status__in=OPEN_LEAD_STATUSES),
            ANSWERS,
            pk__gt=shown_answer,
        ).exclude(author=author)
        if since := answered.select_related("author").order_by("-pk").first():
            readable = (
                since.lead_id == lead.pk or lead_visible_to(user=author).filter(pk=since.lead_id).exists()
            )
            raise AnsweredMeanwhile(since, lead=lead, answer_readable=readable)
        wrote = lead.messages.filter(direction=Direction.INBOUND, pk__gt=shown_answer)
        if since := wrote.order_by("-pk").first():
            raise CustomerWroteMeanwhile(since)
    if unavailable_shown is not None and (
        changed := [
            (vehicle, stock)
            for vehicle, stock in vehicles_unavailable(lead_vehicles_with_stock(lead.vehicles.all()))
            if stock.pk not in unavailable_shown
        ]
    ):
        raise StockChangedMeanwhile(changed)
    parent = _last_inbound_email(lead)
    message = Message.objects.create(
        lead=lead,
        customer=customer,
        channel=Channel.EMAIL,
        direction=Direction.OUTBOUND,
        author=author,
        from_address=settings.DEFAULT_FROM_EMAIL,
        to_addresses=[to],
        subject=subject,
        body_text=body_text,
        # Chosen and stored before sending, so a customer's answer threads back whatever happens.
        message_id=new_message_id(lead.pk),
        in_reply_to=parent.message_id if parent else "",
        references=references_answering(parent),
        send_status=Message.SendStatus.QUEUED,
        occurred_at=timezone.now(),
    )
    # The broker down (Redis restarting) leaves the answer queued for messages_sweep: never an error page.
    queue_on_commit(message_send, message.pk)
    return message


def _is_acknowledgement(message: Message) -> bool:
    """The store's automatic 'we have your inquiry' mail: the only outgoing email no person wrote."""
    return message.author_id is None


def _email_for(message: Message) -> EmailMessage:
    if _is_acknowledgement(message):
        # Marked automatic so that other robots do not answer it (RFC 3834); it offers nothing, so
        # it carries no unsubscribe.
        return threaded_email(message, headers={"Auto-Submitted": "auto-replied"})
    return threaded_email(
        message, headers=commercial_email_headers_matching(message.customer, body=message.body_text)
    )


def mail_connection_open() -> BaseEmailBackend:
    """An open connection to the store's mail server. MailServerUnavailable when it cannot be
    opened: nothing reached the server, so trying again is safe."""
    connection = mailers.default
    try:
        connection.open()
    except (OSError, smtplib.SMTPException) as error:
        raise MailServerUnavailable(str(error)) from error
    return connection


def mail_send(email: EmailMessage) -> None:
    """Open the connection to the mail server, then send (see mail_connection_open). Any failure
    after the opening is raised as it is: the server may have the message, so it must not be sent
    again blindly. But for a refusal that asks to be tried again later, which took nothing."""
    connection = mail_connection_open()
    try:
        connection.send_messages([email])
    except REFUSALS as error:
        if refusal_is_temporary(error):
            raise temporary_refusal(error) from error
        raise
    finally:
        connection.close()


def refusal_is_temporary(error: smtplib.SMTPException) -> bool:
    """A 4xx answer (greylisting, a rate limit, a mailbox full for now): the server took nothing
    and asks to be tried again later."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _reply in error.recipients.values()]
    else:
        codes = [getattr(error, "smtp_code", 0)]
    return bool(codes) and all(400 <= code < 500 for code in codes)


def temporary_refusal(error: smtplib.SMTPException) -> MailServerUnavailable:
    """A refusal for now, told as a server that cannot take mail yet: the mail is queued again."""
    return MailServerUnavailable(f"{smtp_refusal_text(error)} (asked to try again later)")


def smtp_refusal_text(error: smtplib.SMTPException) -> str:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{address}: {code} {reply.decode(errors='replace') if isinstance(reply, bytes) else reply}"
            for address, (code, reply) in error.recipients.items()
        )
    reply = error.smtp_error
    return f"{error.smtp_code} {reply.decode(errors='replace') if isinstance(reply, bytes) else reply}"


def _finish(message: Message, status: str, error: str = "") -> None:
    # occurred_at follows the latest attempt: when sent, it is when the server took the message.
    message.send_status, message.send_error, message.occurred_at = status, error, timezone.now()
    message.save(update_fields=["send_status", "send_error", "occurred_at"])


def queued_mail_deliver[Row: Model](
    *,
    queryset: QuerySet[Row],
    pk: int,
    email_for: Callable[[Row], EmailMessage],
    finish: Callable[[Row, str, str], None],
    interrupted_error: str,
    send_error_for: Callable[[Exception], str],
    final_attempt: bool,
) -> tuple[Row, bool]:
    """Send the queued row `pk` of `queryset` at most once; see the module docstring for the states.
    Returns the row and whether this call sent it.

    `email_for` builds the email from the locked row and `finish(row, status, error)` records each
    step. A row found still "sending" fails with `interrupted_error`; a failure once the connection
    was open fails with `send_error_for(error)`, never retried. An unreachable server queues the row
    again and raises MailServerUnavailable for a retry; on the `final_attempt` it stays queued all
    the same, for the periodic sweep to send once the server answers. A row written (its
    created_at) longer than MAIL_GIVE_UP_AFTER ago is not sent: it fails with WAITED_TOO_LONG."""
    with transaction.atomic():
        row = queryset.select_for_update(of=("self",)).get(pk=pk)
        if row.send_status == Message.SendStatus.SENDING:
            finish(row, Message.SendStatus.FAILED, interrupted_error)
            return row, False
        if row.send_status != Message.SendStatus.QUEUED:
            return row, False
        if row.created_at < timezone.now() - MAIL_GIVE_UP_AFTER:
            finish(row, Message.SendStatus.FAILED, WAITED_TOO_LONG)
            return row, False
        finish(row, Message.SendStatus.SENDING, "")
    try:
        mail_send(email_for(row))
    except MailServerUnavailable as error:
        if final_attempt:
            # Nothing was handed over: still queued, the sweep tries again later.
            finish(row, Message.SendStatus.QUEUED, f"The mail server could not be reached: {error}")
            return row, False
        finish(row, Message.SendStatus.QUEUED, f"Will try again: {error}")
        raise
    except Exception as error:  # noqa: BLE001 — after the hand-over any failure is ambiguous, never retried
        finish(row, Message.SendStatus.FAILED, send_error_for(error))
        return row, False
    finish(row, Message.SendStatus.SENT, "")
    return row, True


def _send_error_for(error: Exception) -> str:
    if isinstance(error, REFUSALS):
        return f"The mail server refused it: {smtp_refusal_text(error)}"
    return f"{UNCERTAIN_SEND} ({error})"


def message_deliver(*, message_id: int, final_attempt: bool = False) -> Message:
    """Send one queued email at most once (queued_mail_deliver). The only sender of Message rows:
    staff replies and the automatic acknowledgements alike."""
    message, sent = queued_mail_deliver(
        queryset=Message.objects.select_related("lead", "customer"),
        pk=message_id,
        email_for=_email_for,
        finish=_finish,
        interrupted_error=UNCERTAIN_SEND,
        send_error_for=_send_error_for,
        final_attempt=final_attempt,
    )
    if sent and not _is_acknowledgement(message):  # an acknowledgement is not an answer from a person
        lead_record_answer(
            lead=message.lead, answered_at=message.occurred_at, actor=message.author, channel=Channel.EMAIL
        )
    return message


def messages_sweep(*, now=None) -> dict[str, int]:
    """Catch mail that fell between the cracks: queue again what was never picked up (the broker
    was down when it was queued) or is still waiting for the mail server after its task's last
    retry, and give up on what has been "sending" longer than any task may run (its worker died and
    the redelivery was lost) — as uncertain, never resent."""
    from ..tasks import message_send

    now = now or timezone.now()
    stuck_before = now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT * 2)
    stuck = Message.objects.filter(send_status=Message.SendStatus.SENDING, occurred_at__lt=stuck_before)
    given_up = stuck.update(send_status=Message.SendStatus.FAILED, send_error=UNCERTAIN_SEND)
    waiting = list(
        Message.objects.filter(
            send_status=Message.SendStatus.QUEUED,
            occurred_at__lt=now - timedelta(minutes=QUEUED_GRACE_MINUTES),
        ).values_list("pk", flat=True)[:500]
    )
    for message_id in waiting:
        message_send.delay(message_id)
    return {"requeued": len(waiting), "given_up": given_up}


@transaction.atomic
def reply_template_save(
    *,
    template: ReplyTemplate | None = None,
    name: str,
    inquiry_type: str,
    language: str,
    subject: str,
    body: str,
    active: bool = True,
    shown_updated_at: str | None = None,
) -> ReplyTemplate:
    """Create a reply template, or change the one given. A merge field nothing fills is refused:
    every reply drafted from the template would have to be mended by hand before it is sent.

    `shown_updated_at`: when the template was last saved, as the page it was edited on showed it
    (its updated_at, isoformat); a save made since refuses this one (TemplateChangedMeanwhile), so
    that two people editing it at once never lose an edit unseen. None or "": not checked."""
    if unknown := unknown_markup(subject + body):
        raise ReplyError(
            gettext("Not a merge field: %(unknown)s. The merge fields are %(fields)s.")
            % {"unknown": ", ".join(unknown), "fields": merge_field_tags(MERGE_FIELDS)}
        )
    if template is not None and template.pk and shown_updated_at:
        # Locked, so that two saves from pages opened together take turns and the second is told;
        # unless it saves what is there already (the same form sent twice): nothing would be lost.
        current = ReplyTemplate.objects.select_for_update().filter(pk=template.pk).first()
        wanted = {"name": name, "inquiry_type": inquiry_type, "language": language}
        wanted |= {"subject": subject, "body": body, "active": active}
        if (
            current is not None
            and current.updated_at.isoformat() != shown_updated_at
            and any(getattr(current, field) != value for field, value in wanted.items())
        ):
            raise TemplateChangedMeanwhile(current)
    template = template or ReplyTemplate()
    template.name, template.inquiry_type, template.language = name, inquiry_type, language
    template.subject, template.body, template.active = subject, body, active
    template.save()
    reply_templates_changed()
    return template


@transaction.atomic
def reply_template_delete(*, template: ReplyTemplate) -> None:
    """Delete a template no follow-up step sends: a step left without its template would send
    customers an empty email."""
    if plans := reply_template_plans(template=template):
        names = ", ".join(gettext("“%(name)s”") % {"name": plan_text(name)} for name in plans)
        raise ReplyError(
            gettext(
                "Not deleted: the follow-up plan %(names)s sends it. Choose another template for those "
                "steps first, or switch this one off (untick Active) to stop offering it in the composer."
            )
            % {"names": names}
        )
    template.delete()
    reply_templates_changed()
