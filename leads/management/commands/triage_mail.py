"""Show how inbound .eml files would be triaged. Reads only: nothing is stored or sent."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from leads.mail.parsing import parse_message
from leads.mail.triage import triage
from leads.selectors.mail import department_forward_addresses
from leads.selectors.routing import routing_rule_list

CONTACT_KEYS = ("first_name", "last_name", "name", "email", "phone")
VEHICLE_KEYS = ("interest", "status", "year", "make", "model", "trim", "vin", "stock")


def triage_summary(result, *, file: str) -> dict:
    """The JSON shape of one triage result: exactly these keys, null for what is missing."""
    return {
        "file": file,
        "kind": result.kind,
        "department": result.department,
        "language": result.language,
        "rule": result.rule,
        "contact": {key: result.contact.get(key) or None for key in CONTACT_KEYS},
        "vehicles": [{key: vehicle.get(key) or None for key in VEHICLE_KEYS} for vehicle in result.vehicles],
        "source": result.source or None,
    }


class Command(BaseCommand):
    help = "Triage .eml files as the mail pipeline would, without storing or sending anything."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE.eml")
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="One JSON object per file per line."
        )

    def handle(self, *args, files: list[str], as_json: bool, **options):
        try:
            rules, staff_addresses = list(routing_rule_list(active_only=True)), None
            department_addresses = department_forward_addresses()
        except DatabaseError as error:
            # Still useful without a database: the built-in signals need none.
            self.stderr.write(
                f"Routing rules and staff addresses could not be read ({error}); using the built-in"
                " signals only, and no mail from the store's domain counts as staff mail."
            )
            rules, staff_addresses, department_addresses = [], set(), None
        failures = 0
        for name in files:
            try:
                raw = Path(name).read_bytes()
            except OSError as error:
                failures += 1
                self.stderr.write(f"{name}: cannot read the file ({error.strerror or error}).")
                continue
            summary = triage_summary(
                triage(
                    parse_message(raw),
                    rules=rules,
                    staff_addresses=staff_addresses,
                    department_addresses=department_addresses,
                ),
                file=name,
            )
            self.stdout.write(_as_json(summary) if as_json else _as_text(summary))
        if failures:
            raise CommandError(f"{failures} of {len(files)} files could not be read.", returncode=1)


def _as_json(summary: dict) -> str:
    return json.dumps(summary, ensure_ascii=False)


def _as_text(summary: dict) -> str:
    contact = summary["contact"]
    lines = [
        f"{summary['file']}: {summary['kind']}"
        + (f" → {summary['department']}" if summary["department"] else "")
        + f" ({summary['language']}, decided by {summary['rule']})",
        "  contact: "
        + (", ".join(str(contact[k]) for k in ("name", "email", "phone") if contact[k]) or "none"),
    ]
    for vehicle in summary["vehicles"]:
        described = " ".join(str(vehicle[k]) for k in ("year", "make", "model", "trim") if vehicle[k])
        lines.append(f"  vehicle ({vehicle['interest']}): {described or '?'}")
    if summary["source"]:
        lines.append(f"  source: {summary['source']}")
    return "\n".join(lines)
