"""The production shape: deploy checks, migrations, and the docker-compose definition."""

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]


def test_models_and_migrations_agree(db):
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_check_deploy_is_clean_with_debug_off_and_only_the_required_settings(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {
            "DATABASE_URL",
            "CELERY_BROKER_URL",
            "DJANGO_SETTINGS_MODULE",
            "VAR_DIR",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
        }
    }
    env |= {
        "DEBUG": "false",
        "SECRET_KEY": "x7#kq!v2e9_production-grade-secret-key-for-the-check-0f3a9d",
        "ALLOWED_HOSTS": "crm.maplemotors.example",
        "VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "dealership.settings.base",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_debug_off_without_a_secret_key_refuses_to_start(tmp_path):
    env = {
        key: value for key, value in os.environ.items() if key not in {"SECRET_KEY", "DJANGO_SETTINGS_MODULE"}
    }
    env |= {"DEBUG": "false", "ALLOWED_HOSTS": "crm.example", "VAR_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def _compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_defines_the_production_services_with_healthchecks():
    services = _compose()["services"]
    assert {"db", "redis", "web", "worker", "beat"} <= set(services)
    for name in ("db", "redis", "web", "worker"):
        assert "healthcheck" in services[name], name
    # web, worker and beat share one definition of the Django service.
    images = {services[name]["image"] for name in ("web", "worker", "beat")}
    assert images == {"dealership-crm:latest"}
    for name in ("web", "worker", "beat"):
        assert services[name]["environment"]["DATABASE_URL"].startswith("postgres://")
        assert services[name]["environment"]["CELERY_BROKER_URL"].startswith("redis://redis:")
        # One cache for all processes: a count refreshed by a worker is refreshed for the web too.
        assert services[name]["environment"]["CACHE_URL"].startswith("redis://redis:")


@pytest.mark.parametrize("service", ["web", "worker", "beat"])
def test_each_compose_command_names_real_modules(service):
    command = " ".join(_compose()["services"][service]["command"])
    if "gunicorn" in command:
        module, _, attribute = command.split("gunicorn ")[1].split()[0].partition(":")
        assert hasattr(importlib.import_module(module), attribute)
    if "celery" in command:
        app_module = command.split("-A ")[1].split()[0]
        assert importlib.import_module(app_module).celery_app.main == "dealership"
    if "manage.py" in command:
        assert (ROOT / "manage.py").exists()
        for management_command in ("migrate", "collectstatic"):
            if management_command in command:
                from django.core.management import get_commands

                assert management_command in get_commands()
