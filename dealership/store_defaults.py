"""What every store starts with, and nothing else: the departments, each role's permission group,
the bilingual reply templates, the follow-up plan for internet leads, the mail routing rules and the
loyalty rules. No people, customers, leads, vehicles or promotions (the demo store adds those).

Made by `manage.py setup_store` for a real store and by `manage.py seed_demo` for the demo, both
through store_defaults_ensure, which a start-up may run each time. Running it again overwrites
nothing the store keeps: a list the store already has (its departments, reply templates, follow-up
plans, routing rules) is left as the store made it, even when it deleted or renamed a default. Two
things are the product's, not the store's: each role group gets exactly its role's permissions back
(the roles define them), and every kind of loyalty moment has its rule (a store switches one off;
the loyalty rules page and the daily run make a missing one again, switched on)."""

from django.contrib.auth.models import Group
from django.db import transaction

from dealership.models import Department
from dealership.services import departments_ensure, role_groups_ensure
from leads.models import FollowUpPlan, LoyaltyRule, ReplyTemplate, RoutingRule
from leads.services.followup import followup_plans_ensure_defaults
from leads.services.loyalty import loyalty_rules_ensure
from leads.services.replies import reply_templates_ensure_defaults
from leads.services.routing import routing_rules_ensure_defaults

# What store_defaults_ensure counts, in the order it reports them.
COUNTED = {
    "departments": Department,
    "role_groups": Group,
    "reply_templates": ReplyTemplate,
    "followup_plans": FollowUpPlan,
    "routing_rules": RoutingRule,
    "loyalty_rules": LoyaltyRule,
}


@transaction.atomic
def store_defaults_ensure(*, email_domain: str) -> dict[str, int]:
    """Create the store's defaults that are missing; returns how many of each were created (COUNTED's keys).

    `email_domain`: where the departments' mail is forwarded (service@<domain>, …), when the store
    has none yet."""
    before = {kind: model.objects.count() for kind, model in COUNTED.items()}
    if not Department.objects.exists():
        departments_ensure(email_domain=email_domain)
    role_groups_ensure()
    if not ReplyTemplate.objects.exists():
        reply_templates_ensure_defaults()
    if not FollowUpPlan.objects.exists():
        followup_plans_ensure_defaults()
    if not RoutingRule.objects.exists():
        routing_rules_ensure_defaults()
    loyalty_rules_ensure()
    return {kind: model.objects.count() - before[kind] for kind, model in COUNTED.items()}
