"""All-in advertised price rules of the provinces: pure functions, no database."""

from decimal import Decimal, InvalidOperation

from django.utils import translation
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from dealership.text import mid_sentence

from .models import OfferKind

# Provinces whose regulator requires the advertised price to include every fee the buyer must pay:
# Ontario (OMVIC) and Quebec (Consumer Protection Act, OPC).
# Each as the problems name it ("in Ontario", "en Ontario", "au Québec").
ALL_IN_PROVINCES = {"ON": gettext_noop("in Ontario (OMVIC)"), "QC": gettext_noop("in Quebec (OPC)")}

# What may still be added on top of an all-in price: sales taxes (in English and in French) and
# licensing, by their exact names. Not any name containing "tax": a tire or A/C levy is a fee.
EXCLUDABLE_FEES = frozenset(
    {"hst", "gst", "qst", "pst", "tvh", "tps", "tvq", "licensing", "licence", "license", "registration"}
)

# Marked for translation: the public pages and leaflets print them in both languages (price_terms).
FEE_LABELS = {
    "freight_pdi": gettext_noop("Freight and PDI"),
    "admin": gettext_noop("Administration fee"),
    "other": gettext_noop("Other fees"),
}


def fee_label(name: str) -> str:
    return FEE_LABELS.get(name, name.replace("_", " ").capitalize())


def _dollars(amount: Decimal) -> str:
    """$1,995.00 in English, 1 995,00 $ in French."""
    return _("$%(amount)s") % {"amount": number_format(amount, 2, force_grouping=True)}


def _percent(rate) -> str:
    """1.9 in English, 1,9 in French; no trailing zeros (1.90 is 1.9, 10.00 is 10)."""
    rate = Decimal(rate)
    return number_format(rate, max(0, -rate.normalize().as_tuple().exponent))


def _excludable(name: str) -> bool:
    return name.strip().lower() in EXCLUDABLE_FEES


def _amount(value) -> Decimal | None:
    try:
        return Decimal(str(value)) if value not in (None, "") else None
    except InvalidOperation:
        return None


def fees_added(fees: dict) -> list[str]:
    """Fees (other than taxes and licensing) that the buyer pays on top of the advertised price."""
    return [
        fee_label(name)
        for name, fee in (fees or {}).items()
        if (_amount(fee.get("amount")) or 0) > 0 and not fee.get("included") and not _excludable(name)
    ]


def price_terms(fees: dict, *, language: str = "en") -> str:
    """What the advertised price includes, as the customer must read it next to the price, in
    `language`."""
    with translation.override(language):
        if added := fees_added(fees):
            # In the middle of a sentence: "freight and PDI", not "Freight and PDI" nor "freight and pdi".
            return _("plus %(fees)s, taxes and licensing") % {
                "fees": ", ".join(mid_sentence(label) for label in map(_, added))
            }
        return _("all fees included, plus taxes and licensing")


# What the store prints and publishes speaks both languages, English first.
PRINTED_LANGUAGES = ("en", "fr")
RATE_OFFERS = (OfferKind.FINANCING, OfferKind.LEASE)


def _price_and_rate(*, offer_kind: str, advertised_price, rate, fees: dict, language: str) -> str:
    """The price with what it includes, then a financing or lease offer's rate, which is the offer
    itself: "$34,995.00 — all fees included, … · Financing rate: 1.9%". Empty when neither is set."""
    figures = []
    if advertised_price:
        figures.append(f"{_dollars(Decimal(advertised_price))} — {price_terms(fees, language=language)}")
    if offer_kind in RATE_OFFERS and rate is not None:
        figures.append(
            _("%(offer)s: %(rate)s%%") % {"offer": _(OfferKind(offer_kind).label), "rate": _percent(rate)}
        )
    return " · ".join(figures)


def offer_lines(*, offer_kind: str, advertised_price, rate, fees: dict) -> list[str]:
    """The offer, a line in English then one in French, for the leaflet and the offer page:
    "$34,995.00 — all fees included, …" / "34 995,00 $ — tous frais inclus, …", "Financing rate:
    1.9%" / « Taux de financement : 1,9 % », or both (_price_and_rate). Empty when the promotion
    offers nothing in particular."""
    lines = []
    for language in PRINTED_LANGUAGES:
        with translation.override(language):  # the amounts' format, and the words
            if offer_kind == OfferKind.REBATE and advertised_price:
                # The rebate's amount, to come off the price: not a vehicle's price, nor all-in.
                line = _("%(offer)s: %(amount)s") % {
                    "offer": _(OfferKind(offer_kind).label),
                    "amount": _dollars(Decimal(advertised_price)),
                }
            elif figures := _price_and_rate(
                offer_kind=offer_kind,
                advertised_price=advertised_price,
                rate=rate,
                fees=fees,
                language=language,
            ):
                line = figures
            elif offer_kind in (OfferKind.REBATE, OfferKind.GIFT):
                line = _(OfferKind(offer_kind).label)
            else:  # a price or a rate offer whose figure is not set yet says nothing
                return []
        lines.append(line)
    return lines


def all_in_price_problems(*, province: str, advertised_price, fees: dict, offer_kind: str = "") -> list[str]:
    """What keeps this advertised price from being legal in the province; empty when it is.
    A rebate's amount is no vehicle price: the all-in rule does not apply to it.

    `fees` maps a fee's name to {"amount": ..., "included": bool}, e.g. {"freight_pdi": {...}}.
    """
    problems = []
    price = _amount(advertised_price)
    if advertised_price not in (None, "") and (price is None or price <= 0):
        problems.append(_("The advertised price must be an amount above zero."))
    for name, fee in (fees or {}).items():
        amount = _amount(fee.get("amount"))
        if fee.get("amount") not in (None, "") and (amount is None or amount < 0):
            problems.append(_("%(fee)s: the amount must be zero or more.") % {"fee": _(fee_label(name))})
    regulator = ALL_IN_PROVINCES.get((province or "").upper())
    if regulator is None or price is None or offer_kind == OfferKind.REBATE:
        return problems
    for name, fee in (fees or {}).items():
        amount = _amount(fee.get("amount")) or Decimal(0)
        if amount > 0 and not fee.get("included") and not _excludable(name):
            problems.append(
                _(
                    "%(fee)s (%(amount)s) must be included in the advertised price: %(in_province)s only "
                    "sales taxes and licensing may be added to an advertised price."
                )
                % {
                    "fee": _(fee_label(name)),
                    "amount": _dollars(amount),
                    "in_province": _(regulator),
                }
            )
    return problems
