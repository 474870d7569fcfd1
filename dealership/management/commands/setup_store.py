"""Give a real store what it starts with (departments, bilingual reply templates, the follow-up plan,
routing and loyalty rules); no logins, no demo data. Run again, it makes only what the store has none
of (store_defaults.store_defaults_ensure says what)."""

from email.utils import parseaddr

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from dealership.models import Department
from dealership.store_defaults import store_defaults_ensure


def _created_line(kind: str, count: int) -> str:
    texts = {
        "departments": ngettext("%(count)d department", "%(count)d departments", count),
        "role_groups": ngettext("%(count)d role group", "%(count)d role groups", count),
        "reply_templates": ngettext("%(count)d reply template", "%(count)d reply templates", count),
        "followup_plans": ngettext("%(count)d follow-up plan", "%(count)d follow-up plans", count),
        "routing_rules": ngettext("%(count)d routing rule", "%(count)d routing rules", count),
        "loyalty_rules": ngettext("%(count)d loyalty rule", "%(count)d loyalty rules", count),
    }
    return texts[kind] % {"count": count}


def default_email_domain() -> str:
    """The domain of the address the store sends from (DEFAULT_FROM_EMAIL)."""
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2]


class Command(BaseCommand):
    help = (
        "Create the store's defaults: departments, bilingual reply templates, the follow-up plan for"
        " internet leads, mail routing rules and loyalty rules. Creates no logins and no demo data;"
        " run again, it makes departments, templates, plans and rules only for a store that has none."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--email-domain",
            default="",
            help=(
                "Mail domain of the departments' forward addresses (service@…, parts@…); default: the"
                " domain of DEFAULT_FROM_EMAIL. A department that exists keeps its address."
            ),
        )

    def handle(self, *args, email_domain: str, **options):
        domain = (email_domain or default_email_domain()).strip().lstrip("@").lower()
        try:
            validate_email(f"service@{domain}")
        except ValidationError:
            raise CommandError(
                _("“%(domain)s” is not a mail domain; give one with --email-domain (for example store.ca).")
                % {"domain": domain}
            ) from None
        created = store_defaults_ensure(email_domain=domain)
        if any(created.values()):
            lines = [_created_line(kind, count) for kind, count in created.items() if count]
            self.stdout.write(_("Store defaults created: %(created)s.") % {"created": ", ".join(lines)})
        else:
            self.stdout.write(_("Store defaults already in place; nothing was changed."))
        if created["departments"]:
            forwards = ", ".join(
                f"{department.name} → {department.forward_email or '—'}"
                for department in Department.objects.order_by("pk")
            )
            self.stdout.write(
                _(
                    "Mail for the departments is forwarded to: %(forwards)s."
                    " Change an address in the admin, under Departments."
                )
                % {"forwards": forwards}
            )
