"""Settings a store must get right: read and checked at start-up, never discovered by a customer."""

import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from dealership.checks import store_identity_check
from dealership.settings import base as base_settings
from leads.checks import mailbox_urls_check
from leads.consent_links import unsubscribe_url
from leads.mail.parsing import parse_message
from leads.mail.sources import MailboxURLError, parse_mailbox_url
from leads.mail.triage import triage
from leads.services.customer_import import import_apply, import_create
from tests import factories
from tests.dealership.test_deployment import DEPLOYMENT_UNSET

ROOT = Path(__file__).resolve().parents[2]


def _settings_read(monkeypatch, **environment) -> dict:
    """The settings as start-up reads them from this environment."""
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(base_settings.__file__)


# The store's identity: check --deploy --------------------------------------------------------------

REAL_STORE = {
    "name": "Laurentides Auto",
    "address": "300 boulevard Labelle, Saint-Jérôme, QC J7Z 5L3",
    "phone": "+1 450 555 0199",
    "website": "https://www.laurentidesauto.ca",
    "province": "QC",
}
REAL_IDENTITY = {
    "DEBUG": False,
    "SITE_URL": "https://crm.laurentidesauto.ca",
    "ALLOWED_HOSTS": ["crm.laurentidesauto.ca"],
    "STORE": REAL_STORE,
    "DEFAULT_FROM_EMAIL": "Laurentides Auto <internet@laurentidesauto.ca>",
    "MAILBOX_URLS": ["imaps://internet%40laurentidesauto.ca:s3cret@imap.laurentidesauto.ca/INBOX"],
}


def _by_setting(messages) -> dict:
    return {message.obj: message for message in messages}


def test_the_demo_store_identity_is_refused_for_a_deployment_naming_each_setting_and_what_to_set():
    # The test settings are the development defaults: the demo store, 127.0.0.1, the local mailbox.
    with override_settings(DEBUG=False):
        found = _by_setting(store_identity_check(None))
    assert set(found) == {
        "SITE_URL",
        "STORE_NAME",
        "STORE_ADDRESS",
        "STORE_PHONE",
        "STORE_WEBSITE",
        "DEFAULT_FROM_EMAIL",
        "MAILBOX_URL",
    }
    assert all(message.level == checks.ERROR for message in found.values())
    assert "127.0.0.1" in found["SITE_URL"].msg and "https://" in found["SITE_URL"].hint
    assert "Maple Motors" in found["STORE_NAME"].msg and "STORE_NAME" in found["STORE_NAME"].hint
    for name in ("STORE_NAME", "STORE_ADDRESS", "STORE_PHONE", "STORE_WEBSITE", "DEFAULT_FROM_EMAIL"):
        assert found[name].hint.startswith(f"Set {name} to the store's")
    assert "maildir://" in found["MAILBOX_URL"].msg and "imaps://" in found["MAILBOX_URL"].hint


def test_the_store_own_identity_passes():
    with override_settings(**REAL_IDENTITY):
        assert store_identity_check(None) == []


@pytest.mark.parametrize(
    ("site_url", "level", "words"),
    [
        ("crm.laurentidesauto.ca", checks.ERROR, "not a full address"),
        ("https://localhost:8000", checks.ERROR, "cannot reach"),
        ("https://[::1]", checks.ERROR, "cannot reach"),
        ("https://0.0.0.0", checks.ERROR, "cannot reach"),
        ("https://192.168.1.20", checks.ERROR, "cannot reach"),
        ("https://crm.maplemotors.example", checks.ERROR, "cannot reach"),
        ("http://crm.laurentidesauto.ca", checks.WARNING, "https"),
    ],
)
def test_a_site_url_mail_links_cannot_use_is_named(site_url, level, words):
    with override_settings(**REAL_IDENTITY | {"SITE_URL": site_url}):
        (message,) = store_identity_check(None)
    assert (message.obj, message.level) == ("SITE_URL", level) and words in message.msg


@pytest.mark.parametrize(
    "site_url",
    [
        "https://crm",  # a name only the store's own network resolves
        "https://crm.lan",
        "https://crm.internal",
        "https://crm.home.arpa",
        "https://crm.local",
        "https://crm.localdomain",
        "https://100.64.12.7",  # a carrier's shared address (CGNAT), not the internet's
    ],
)
def test_a_site_url_only_the_stores_own_network_reaches_is_refused(site_url):
    host = site_url.removeprefix("https://")
    with override_settings(**REAL_IDENTITY | {"SITE_URL": site_url, "ALLOWED_HOSTS": [host]}):
        (message,) = store_identity_check(None)
    assert (message.obj, message.level) == ("SITE_URL", checks.ERROR) and "cannot reach" in message.msg


def test_a_site_url_this_application_does_not_answer_at_is_refused():
    """SITE_URL set to the store's website instead of this application's address: every QR code,
    campaign link and unsubscribe link would go to a site without its pages."""
    with override_settings(**REAL_IDENTITY | {"SITE_URL": "https://www.laurentidesauto.ca"}):
        (message,) = store_identity_check(None)
    assert (message.obj, message.level) == ("SITE_URL", checks.ERROR)
    assert "ALLOWED_HOSTS" in message.msg and "crm.laurentidesauto.ca" in message.msg
    assert "STORE_WEBSITE" in message.msg and "unsubscribe" in message.msg
    with override_settings(**REAL_IDENTITY | {"SITE_URL": "https://crm2.laurentidesauto.ca"}):
        (message,) = store_identity_check(None)
    assert message.obj == "SITE_URL" and "STORE_WEBSITE" not in message.msg


@pytest.mark.parametrize(
    "allowed",
    [
        {"ALLOWED_HOSTS": [".laurentidesauto.ca"]},
        {"ALLOWED_HOSTS": ["*"]},
        # A proxy that sends its own Host: the public name is trusted for the forms instead.
        {"ALLOWED_HOSTS": ["web"], "CSRF_TRUSTED_ORIGINS": ["https://crm.laurentidesauto.ca"]},
        {"ALLOWED_HOSTS": ["web"], "CSRF_TRUSTED_ORIGINS": ["https://*.laurentidesauto.ca"]},
    ],
)
def test_a_site_url_this_application_answers_at_passes(allowed):
    with override_settings(**REAL_IDENTITY | allowed):
        assert store_identity_check(None) == []


def test_a_store_website_customers_cannot_reach_is_not_called_the_demo_stores():
    store = REAL_STORE | {"website": "https://localhost"}
    with override_settings(**REAL_IDENTITY | {"STORE": store}):
        (message,) = store_identity_check(None)
    assert (message.obj, message.level) == ("STORE_WEBSITE", checks.ERROR)
    assert "cannot reach" in message.msg and "demo" not in message.msg
    assert message.hint.startswith("Set STORE_WEBSITE to the store's website")


@pytest.mark.parametrize(
    "sender", ["internet@maplemotors.example", "Laurentides Auto <ventes@laurentides.test>", "no address"]
)
def test_a_sender_on_a_reserved_domain_is_refused(sender):
    with override_settings(**REAL_IDENTITY | {"DEFAULT_FROM_EMAIL": sender}):
        (message,) = store_identity_check(None)
    assert message.obj == "DEFAULT_FROM_EMAIL" and message.level == checks.ERROR


def test_debug_on_is_an_error_for_a_deployment_where_django_only_warns():
    with override_settings(**REAL_IDENTITY | {"DEBUG": True}):
        (message,) = store_identity_check(None)
    assert (
        message.obj == "DEBUG"
        and message.level == checks.ERROR
        and message.hint.startswith("Set DEBUG=false.")
    )
    assert "security.W018" in message.hint


def test_the_identity_check_runs_with_check_deploy_only():
    assert store_identity_check in checks.registry.registry.get_checks(include_deployment_checks=True)
    assert store_identity_check not in checks.registry.registry.get_checks(include_deployment_checks=False)


def _manage_py_check(tmp_path, **environment) -> subprocess.CompletedProcess:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in DEPLOYMENT_UNSET
        and not key.startswith(("STORE_", "SITE_URL", "DEFAULT_FROM_EMAIL", "MAILBOX_URL"))
    }
    env |= {
        "DEBUG": "false",
        "SECRET_KEY": "x7#kq!v2e9_production-grade-secret-key-for-the-check-0f3a9d",
        "ALLOWED_HOSTS": "crm.laurentidesauto.ca",
        "VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "dealership.settings.base",
        **environment,
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )


def test_check_deploy_names_every_identity_setting_left_to_the_demo_defaults(tmp_path):
    result = _manage_py_check(tmp_path)
    assert result.returncode != 0
    for name in ("SITE_URL", "STORE_NAME", "STORE_ADDRESS", "STORE_PHONE", "STORE_WEBSITE"):
        assert f"{name}: " in result.stderr, result.stderr
    assert "DEFAULT_FROM_EMAIL: " in result.stderr and "MAILBOX_URL: " in result.stderr


def test_check_deploy_is_clean_with_the_store_identity_set(tmp_path):
    result = _manage_py_check(
        tmp_path,
        SITE_URL="https://crm.laurentidesauto.ca",
        STORE_NAME=REAL_STORE["name"],
        STORE_ADDRESS=REAL_STORE["address"],
        STORE_PHONE=REAL_STORE["phone"],
        STORE_WEBSITE=REAL_STORE["website"],
        STORE_PROVINCE="QC",
        DEFAULT_FROM_EMAIL=REAL_IDENTITY["DEFAULT_FROM_EMAIL"],
        MAILBOX_URL=REAL_IDENTITY["MAILBOX_URLS"][0],
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


# Mailbox URLs --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "username", "password", "folder"),
    [
        ("imaps://leads@store.ca:p#ss1@imap.store.ca/INBOX", "leads@store.ca", "p#ss1", "INBOX"),
        ("imaps://leads%40store.ca:p%23ss1@imap.store.ca/INBOX", "leads@store.ca", "p#ss1", "INBOX"),
        ("imaps://leads:p/ss?x@imap.store.ca:993/Leads", "leads", "p/ss?x", "Leads"),
        ("imaps://leads:p@ss:w0rd@imap.store.ca", "leads", "p@ss:w0rd", "INBOX"),
        # Decoded once, as DATABASE_URL is: %41 is A, and %2541 is the three characters %41.
        ("imaps://leads:p%41ss@imap.store.ca", "leads", "pAss", "INBOX"),
        ("imaps://leads:p%2541ss@imap.store.ca", "leads", "p%41ss", "INBOX"),
        ("imaps://leads:a%2Cb@imap.store.ca/Web%20leads", "leads", "a,b", "Web leads"),
    ],
)
def test_a_mailbox_password_may_hold_any_character(url, username, password, folder):
    source = parse_mailbox_url(url)
    assert (source.host, source.port, source.username, source.password, source.folder) == (
        "imap.store.ca",
        993,
        username,
        password,
        folder,
    )
    assert source.name == f"imaps://{username}@imap.store.ca:993/{folder}"


def test_mailbox_hosts_and_ports_are_read_as_before():
    assert parse_mailbox_url("imap://u:p@localhost").name == "imap://u@localhost:143/INBOX"
    assert parse_mailbox_url("IMAPS://u:p@[::1]:1993/INBOX").name == "imaps://u@::1:1993/INBOX"
    assert parse_mailbox_url("imaps://imap.store.ca").name == "imaps://imap.store.ca:993/INBOX"


# A password with a comma, written as is: MAILBOX_URL's list splits it in two.
SPLIT_BY_A_COMMA = ["imaps://leads:Zq7", "Wx9@imap.store.ca/INBOX"]


@pytest.mark.parametrize(
    "url",
    [
        *SPLIT_BY_A_COMMA,
        "imaps://leads:Zq7Wx9@imap.store.ca:99999/INBOX",
        "imaps://leads:Zq7Wx9@/INBOX",
        "pop3://leads:Zq7Wx9@imap.store.ca",
        "imaps://leads:Zq7Wx9@imap store.ca/INBOX",
    ],
)
def test_an_unreadable_mailbox_url_never_shows_its_password(url):
    with pytest.raises(MailboxURLError) as refused:
        parse_mailbox_url(url)
    assert "Zq7" not in str(refused.value) and "Wx9" not in str(refused.value)


def test_start_up_checks_name_each_unreadable_mailbox_url_without_its_password():
    with override_settings(MAILBOX_URLS=["imaps://leads:ok@imap.store.ca/INBOX", *SPLIT_BY_A_COMMA]):
        found = mailbox_urls_check(None)
    assert [(message.obj, message.id) for message in found] == [("MAILBOX_URL", "leads.E001")] * 2
    assert found[0].msg.startswith("Mailbox 2 of 3: ")
    assert found[1].msg.startswith("Mailbox 3 of 3: ")
    for message in found:
        assert "Zq7" not in message.msg + message.hint and "Wx9" not in message.msg + message.hint
        assert "%40" in message.hint and "%23" in message.hint and "%2C" in message.hint


def test_readable_mailbox_urls_pass_the_start_up_checks():
    with override_settings(
        MAILBOX_URLS=["imaps://a%40b.ca:p%23@imap.b.ca/INBOX", "maildir:///var/mail/leads"]
    ):
        assert mailbox_urls_check(None) == []
    assert mailbox_urls_check in checks.registry.registry.get_checks(include_deployment_checks=False)


# URLs and the time zone read at start-up ---------------------------------------------------------


def test_a_database_url_without_a_scheme_stops_start_up_without_showing_it(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="^DATABASE_URL needs a scheme") as refused:
        _settings_read(monkeypatch, DATABASE_URL="crm:Zq7Wx9@db:5432/crm")
    assert "postgres://" in str(refused.value) and "Zq7Wx9" not in str(refused.value)


@pytest.mark.parametrize(
    ("name", "url"),
    [
        ("CACHE_URL", "redis://:Zq7#Wx9@redis:6379/1"),
        ("CACHE_URL", "redis://:Zq7?Wx9@redis:6379/1"),
        ("CACHE_URL", "redis://:12#Wx9@redis:6379/1"),
        ("CELERY_BROKER_URL", "redis://:Zq7/Wx9@redis:6379/0"),
        ("DATABASE_URL", "postgres://crm:Zq7/Wx9@db:5432/crm"),
        ("DATABASE_URL", "postgres://crm:Zq7#Wx9@/crm"),  # the local socket
        ("DATABASE_URL", "postgresql://crm:Zq7?Wx9@/crm"),
        ("DATABASE_URL", "postgres://crm:5432#Zq7Wx9@db:5432/crm"),  # read as host crm, port 5432
        ("DATABASE_URL", "postgres://crm#Zq7Wx9@/crm"),  # a user name, read as the host
        ("CACHE_URL", "rediscache://:Zq7#Wx9@redis:6379/1"),
    ],
)
def test_a_url_password_that_is_not_percent_encoded_stops_start_up_without_showing_it(monkeypatch, name, url):
    with pytest.raises(ImproperlyConfigured, match=f"^{name} cannot be read") as refused:
        _settings_read(monkeypatch, **{name: url})
    assert "%23" in str(refused.value) and "Zq7" not in str(refused.value) and "Wx9" not in str(refused.value)


def test_percent_encoded_url_passwords_are_read(monkeypatch):
    read = _settings_read(
        monkeypatch,
        CACHE_URL="redis://:Zq7%23Wx9@redis:6379/1",
        CELERY_BROKER_URL="redis://:Zq7%2FWx9@redis:6379/0",
        DATABASE_URL="postgres://crm:Zq7%2FWx9@db:5432/crm",
    )
    assert read["CACHES"]["default"]["LOCATION"] == "redis://:Zq7%23Wx9@redis:6379/1"
    assert read["DATABASES"]["default"]["PASSWORD"] == "Zq7/Wx9"


@pytest.mark.parametrize(
    ("url", "user", "password"),
    [
        ("postgres://crm:Zq7%23Wx9@/crm", "crm", "Zq7#Wx9"),
        ("postgresql://crm@/crm", "crm", ""),
        ("postgres:///crm", "", ""),
    ],
)
def test_a_database_on_the_local_socket_is_read_with_or_without_a_user(monkeypatch, url, user, password):
    """libpq's forms for the server's Unix socket, on the same machine: no host."""
    database = _settings_read(monkeypatch, DATABASE_URL=url)["DATABASES"]["default"]
    read = (database["HOST"], database["USER"], database["PASSWORD"], database["NAME"])
    assert read == ("", user, password, "crm")


def test_urls_naming_several_servers_are_read(monkeypatch):
    read = _settings_read(
        monkeypatch,
        DATABASE_URL="postgres://crm:Zq7%23Wx9@db1:5432,db2:5432/crm",
        CACHE_URL="rediscache://redis1:6379,redis2:6379/1",
    )
    assert read["DATABASES"]["default"]["HOST"] == "db1,db2"
    assert read["CACHES"]["default"]["LOCATION"] == ["redis://redis1:6379/1", "redis://redis2:6379/1"]


@pytest.mark.parametrize("zone", ["EST", "MST", "Etc/GMT+5"])
def test_a_time_zone_without_daylight_saving_rules_stops_start_up(monkeypatch, zone):
    with pytest.raises(
        ImproperlyConfigured, match=f"^STORE_TIME_ZONE: '{re.escape(zone)}' .*America/Toronto"
    ):
        _settings_read(monkeypatch, STORE_TIME_ZONE=zone)


@pytest.mark.parametrize("zone", ["America/Vancouver", "America/Halifax", "UTC"])
def test_a_city_time_zone_is_read(monkeypatch, zone):
    assert _settings_read(monkeypatch, STORE_TIME_ZONE=zone)["TIME_ZONE"] == zone


# Rotating SECRET_KEY --------------------------------------------------------------------------------


def test_secret_key_fallbacks_are_read_from_the_environment(monkeypatch):
    monkeypatch.delenv("SECRET_KEY_FALLBACKS", raising=False)
    assert _settings_read(monkeypatch)["SECRET_KEY_FALLBACKS"] == []
    read = _settings_read(monkeypatch, SECRET_KEY_FALLBACKS="old-key-one,old-key-two")
    assert read["SECRET_KEY_FALLBACKS"] == ["old-key-one", "old-key-two"]


@pytest.mark.django_db
def test_an_unsubscribe_link_mailed_before_a_key_rotation_works_with_the_old_key_in_the_fallbacks(client):
    customer = factories.customer(first_name="Rotation")
    with override_settings(SECRET_KEY="the-key-the-link-was-mailed-with-" + "x" * 20):
        url = unsubscribe_url(customer)
    new_key = "the-key-after-the-rotation-" + "y" * 30
    with override_settings(SECRET_KEY=new_key, SECRET_KEY_FALLBACKS=[]):
        assert client.get(url).status_code == 404
    old_key = "the-key-the-link-was-mailed-with-" + "x" * 20
    with override_settings(SECRET_KEY=new_key, SECRET_KEY_FALLBACKS=[old_key]):
        page = client.get(url)
    assert page.status_code == 200 and "Choose the messages you no longer want" in page.content.decode()


# The store's language -------------------------------------------------------------------------------


def test_the_store_language_is_english_unless_set(monkeypatch):
    monkeypatch.delenv("STORE_LANGUAGE", raising=False)
    read = _settings_read(monkeypatch)
    assert (read["STORE_LANGUAGE"], read["LANGUAGE_CODE"]) == ("en", "en")
    read = _settings_read(monkeypatch, STORE_LANGUAGE="FR")
    assert (read["STORE_LANGUAGE"], read["LANGUAGE_CODE"]) == ("fr", "fr")


def test_another_store_language_stops_start_up(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="^STORE_LANGUAGE: 'de' .*en.*fr"):
        _settings_read(monkeypatch, STORE_LANGUAGE="de")


# Neither English nor French words: a year and a model.
UNDECIDED = factories.mail(subject="RAV4", text="2024 RAV4 XLE AWD?")


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "fr"])
def test_mail_in_no_clear_language_is_in_the_store_language(language):
    with override_settings(STORE_LANGUAGE=language):
        assert triage(parse_message(UNDECIDED)).language == language
        assert (
            triage(
                parse_message(factories.mail(text="Bonjour, est-ce que la voiture est disponible?"))
            ).language
            == "fr"
        )
        assert (
            triage(parse_message(factories.mail(text="Hello, is the car still available?"))).language == "en"
        )


@pytest.mark.django_db
@override_settings(STORE_LANGUAGE="fr")
def test_a_new_customer_of_unknown_language_speaks_the_store_language():
    assert factories.customer().language == "fr"
    assert factories.customer(language="en").language == "en"


@pytest.mark.django_db
@override_settings(STORE_LANGUAGE="fr")
def test_customers_imported_without_a_language_speak_the_store_language():
    content = "Name,E-mail,Lang\nChloé Gauthier,chloe@example.com,\nEmma Johnson,emma@example.com,en\n"
    batch = import_create(filename="dms.csv", data=content.encode(), actor=None)
    mapping = {"Name": "full_name", "E-mail": "email", "Lang": "language"}
    summary = import_apply(batch=batch, mapping=mapping, actor=None, dry_run=False)
    assert not summary.errors, summary.errors
    from leads.models import Customer

    assert dict(Customer.objects.values_list("email", "language")) == {
        "chloe@example.com": "fr",
        "emma@example.com": "en",
    }
