import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from dealership.models import Department
from leads.models import Customer, Lead, RoutingRule
from tests import factories

pytestmark = pytest.mark.django_db

SAMPLES = factories.MAIL_SAMPLES


def run(*args) -> tuple[list[dict], str]:
    out, err = StringIO(), StringIO()
    call_command("triage_mail", "--json", *map(str, args), stdout=out, stderr=err)
    return [json.loads(line) for line in out.getvalue().splitlines()], err.getvalue()


def test_json_line_has_exactly_the_agreed_keys_and_values():
    [line], _ = run(SAMPLES / "autotrader_adf.eml")
    assert line == {
        "file": str(SAMPLES / "autotrader_adf.eml"),
        "kind": "lead",
        "department": "sales",
        "language": "en",
        "rule": "adf",
        "contact": {
            "first_name": "Jean",
            "last_name": "Tremblay",
            "name": "Jean Tremblay",
            "email": "jean.tremblay@example.com",
            "phone": "+15145550199",
        },
        "vehicles": [
            {
                "interest": "buy",
                "status": "used",
                "year": 2022,
                "make": "Ford",
                "model": "F-150",
                "trim": "XLT",
                "vin": "1FTFW1E50NFA00001",
                "stock": "U1234",
            },
            {
                "interest": "trade-in",
                "status": "used",
                "year": 2015,
                "make": "Honda",
                "model": "Civic",
                "trim": None,
                "vin": None,
                "stock": None,
            },
        ],
        "source": "AutoTrader.ca",
    }


def test_missing_values_are_null_and_bounces_have_no_department():
    [bounce, ooo], _ = run(SAMPLES / "dsn_bounce.eml", SAMPLES / "ooo_fr.eml")
    assert (bounce["kind"], bounce["department"], bounce["source"], bounce["vehicles"]) == (
        "bounce",
        None,
        None,
        [],
    )
    assert bounce["contact"]["phone"] is None
    assert (ooo["kind"], ooo["department"], ooo["language"]) == ("auto_reply", None, "fr")


def test_one_line_per_file_in_order_and_nothing_is_written(tmp_path):
    files = sorted(SAMPLES.glob("*.eml"))
    lines, _ = run(*files)
    assert [line["file"] for line in lines] == [str(f) for f in files]
    assert not Customer.objects.exists() and not Lead.objects.exists()


def test_unreadable_file_reports_on_stderr_fails_and_others_still_print(tmp_path):
    missing = tmp_path / "missing.eml"
    folder = tmp_path / "a-folder.eml"
    folder.mkdir()
    out, err = StringIO(), StringIO()
    files = [SAMPLES / "form_fr.eml", missing, folder, SAMPLES / "ooo_fr.eml"]
    # A CommandError is what makes manage.py print it and exit with status 1.
    with pytest.raises(CommandError, match="2 of 4 files could not be read") as failure:
        call_command("triage_mail", "--json", *map(str, files), stdout=out, stderr=err)
    assert failure.value.returncode == 1
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [Path(line["file"]).name for line in lines] == ["form_fr.eml", "ooo_fr.eml"]
    assert f"{missing}: cannot read the file" in err.getvalue()
    assert f"{folder}: cannot read the file" in err.getvalue()


def test_readable_summary_without_json():
    out = StringIO()
    call_command("triage_mail", str(SAMPLES / "autotrader_adf.eml"), stdout=out)
    text = out.getvalue()
    assert "lead → sales (en, decided by adf)" in text
    assert "vehicle (trade-in): 2015 Honda Civic" in text
    assert "Jean Tremblay, jean.tremblay@example.com, +15145550199" in text


def test_active_rules_from_the_database_are_used():
    RoutingRule.objects.create(
        name="Ontario desk", sender_contains="autotrader", kind="lead", department="sales"
    )
    [line], _ = run(SAMPLES / "autotrader_adf.eml")
    assert line["rule"] == "rule:Ontario desk"


def test_without_a_migrated_database_the_built_in_signals_still_answer(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}", "VAR_DIR": str(tmp_path)}
    # Mail from the store's own domain asks who on staff has the address: nobody, without a database.
    from_the_store = tmp_path / "website_noreply.eml"
    from_the_store.write_bytes(
        b"From: noreply@maplemotors.example\r\nTo: internet@maplemotors.example\r\n"
        b"Subject: Is the RAV4 still available?\r\n\r\nIs the 2024 RAV4 still available? What is your best price?\r\n"
    )
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "triage_mail",
            "--json",
            str(from_the_store),
            str(SAMPLES / "ooo_fr.eml"),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Routing rules and staff addresses could not be read" in result.stderr
    from_the_store_line, ooo_line = result.stdout.strip().splitlines()[-2:]
    assert (json.loads(from_the_store_line)["kind"], json.loads(ooo_line)["kind"]) == ("lead", "auto_reply")


def test_a_partner_departments_mail_is_the_departments_as_mail_in_decides(tmp_path):
    factories.department("body_shop")
    Department.objects.filter(code="body_shop").update(forward_email="Claims@Partner-Collision.example")
    estimate = tmp_path / "estimate.eml"
    estimate.write_bytes(
        factories.mail(
            sender="Claims <claims@partner-collision.example>",
            subject="Estimate ready",
            text="The estimate for the insurance claim is ready, what is your price on the parts?",
        )
    )
    [line], _ = run(estimate)
    assert (line["kind"], line["rule"], line["department"]) == ("auto_reply", "staff-mail", None)
