"""Reads of the supervisor's mail routing rules."""

from django.db.models import QuerySet

from ..models import RoutingRule


def routing_rule_list(*, active_only: bool = False) -> QuerySet[RoutingRule]:
    rules = RoutingRule.objects.all()
    if active_only:
        rules = rules.filter(active=True)
    return rules.order_by("order", "pk")
