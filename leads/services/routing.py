"""Writes of the supervisor's mail routing rules, and the defaults every store starts with."""

from django.db import transaction

from ..models import MailKind, RoutingRule

RULE_FIELDS = (
    "name",
    "active",
    "order",
    "sender_contains",
    "sender_regex",
    "recipient_contains",
    "subject_contains",
    "text_contains",
    "kind",
    "department",
    "acknowledge",
)

# Sensible starting rules, English and French; a store edits or switches them off in the browser.
# They look at senders, subjects and unmistakable phrases; the rest of a message's words is left to
# the built-in signals, which weigh a buyer's mention of a recall or a loan against the purchase.
DEFAULT_RULES = [
    {
        "name": "Lead providers (AutoTrader, Cars.com, CarGurus, Kijiji…)",  # and Canada's: LesPAC, Unhaggle…
        "order": 10,
        # Matched against the sender's address: a domain ("edmunds.com") also takes its subdomains,
        # a brand name any part of the address. A person's display name never counts.
        "sender_contains": (
            "autotrader, cars.com, cargurus, kijiji, edmunds.com, truecar, carfax, autohebdo, lespac, "
            "carpages, unhaggle, carcostcanada"
        ),
        "kind": MailKind.LEAD,
        "department": "sales",
        "acknowledge": True,
    },
    {
        "name": "Safety recalls / Rappels de sécurité",
        "order": 20,
        "subject_contains": "recall, avis de rappel, rappel de sécurité, campagne de rappel",
        "kind": MailKind.FORWARD,
        "department": "service",
    },
    {
        "name": "Insurance claims / Réclamations d'assurance",
        "order": 30,
        "text_contains": "insurance claim, claim number, réclamation d'assurance, numéro de réclamation",
        "kind": MailKind.FORWARD,
        "department": "body_shop",
    },
    {
        "name": "Loan and lease payoffs / Rachat et solde de prêt",
        "order": 40,
        "subject_contains": "payoff, pay-off, payout, lease buyout, solde de prêt, rachat de location",
        "kind": MailKind.FORWARD,
        "department": "finance",
    },
    {
        "name": "Parts orders / Commandes de pièces",
        "order": 50,
        "subject_contains": "parts order, part number, commande de pièces, numéro de pièce",
        "kind": MailKind.FORWARD,
        "department": "parts",
    },
]


def _fields(values: dict) -> dict:
    return {name: values[name] for name in RULE_FIELDS if name in values}


@transaction.atomic
def routing_rule_create(**values) -> RoutingRule:
    rule = RoutingRule(**_fields(values))
    rule.full_clean()
    rule.save()
    return rule


@transaction.atomic
def routing_rule_update(*, rule: RoutingRule, **values) -> RoutingRule:
    for name, value in _fields(values).items():
        setattr(rule, name, value)
    rule.full_clean()
    rule.save()
    return rule


@transaction.atomic
def routing_rule_delete(*, rule: RoutingRule) -> None:
    rule.delete()


@transaction.atomic
def routing_rules_ensure_defaults() -> list[RoutingRule]:
    """Create the default rules that are missing (matched by name); never changes existing ones."""
    created = []
    for values in DEFAULT_RULES:
        if not RoutingRule.objects.filter(name=values["name"]).exists():
            created.append(routing_rule_create(**values))
    return created
