"""The production shape: deploy checks, migrations, and the docker-compose definition."""

import importlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]
# Left out of the environment a check of the production settings runs in: the test run's own
# settings, and the browser tests' allowance of the ORM beside Playwright (set for the session).
DEPLOYMENT_UNSET = {
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "CACHE_URL",
    "DJANGO_SETTINGS_MODULE",
    "VAR_DIR",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
}


def test_models_and_migrations_agree(db):
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def _readme_env_file() -> dict[str, str]:
    """The .env file README's production section tells a store to write."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Running it at a store")[1]
    block = section.split("**1. The `.env` file**")[1].split("```")[1]
    return dict(line.split("=", 1) for line in block.strip().splitlines())


def test_check_deploy_is_clean_with_the_env_file_readme_gives_a_store(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in DEPLOYMENT_UNSET
        and not key.startswith(("STORE_", "SITE_URL", "DEFAULT_FROM_EMAIL", "MAILBOX_URL", "EMAIL_"))
    }
    dot_env = _readme_env_file()
    assert dot_env["SECRET_KEY"] == "..."
    env |= dot_env | {
        "SECRET_KEY": "x7#kq!v2e9_production-grade-secret-key-for-the-check-0f3a9d",
        # What docker-compose.yml sets itself.
        "DEBUG": "false",
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


# The compose stack as a store runs it -----------------------------------------------------------

DJANGO_SERVICES = ("web", "worker", "beat")


def _manage_py_commands(command: str) -> list[str]:
    """The management commands a shell command line runs, in order."""
    return [part.split()[0] for part in command.split("manage.py ")[1:]]


def test_compose_sets_up_the_database_once_before_web_worker_and_beat_start():
    services = _compose()["services"]
    setup = services["setup"]
    assert setup["image"] == "dealership-crm:latest" and setup["restart"] == "no"
    assert setup["depends_on"] == {
        "db": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    commands = _manage_py_commands(" ".join(setup["command"]))
    # The schema first, then the store's defaults on it, and static files before any page is drawn.
    assert commands == ["migrate", "setup_store", "collectstatic"]
    from django.core.management import get_commands

    assert set(commands) <= set(get_commands())
    for name in DJANGO_SERVICES:
        assert services[name]["depends_on"]["setup"] == {"condition": "service_completed_successfully"}
        assert services[name]["depends_on"]["db"] == {"condition": "service_healthy"}
        assert services[name]["restart"] == "unless-stopped"
        # Migrations run in one place only, never by several containers at once.
        assert "migrate" not in " ".join(services[name]["command"])


def _option(command: list[str], name: str) -> str:
    """The value of --name=value or --name value in an argument list."""
    for index, argument in enumerate(command):
        if argument.startswith(f"{name}="):
            return argument.split("=", 1)[1]
        if argument == name:
            return command[index + 1]
    raise AssertionError(f"{name} missing from {command}")


def test_compose_web_has_threads_and_a_long_timeout_and_the_worker_a_process_per_mailbox_and_more():
    services = _compose()["services"]
    web = services["web"]["command"]
    assert _option(web, "--worker-class") == "gthread"
    assert int(_option(web, "--threads")) >= 2 and int(_option(web, "--timeout")) >= 120
    # Published for a reverse proxy on the same machine only.
    assert services["web"]["ports"] == ["127.0.0.1:8000:8000"]
    assert int(_option(services["worker"]["command"], "--concurrency")) >= 3


def test_compose_keeps_every_kind_of_data_in_a_named_volume():
    compose = _compose()
    services = compose["services"]
    assert services["db"]["volumes"] == ["pg-data:/var/lib/postgresql/data"]
    assert services["redis"]["volumes"] == ["redis-data:/data"]
    for name in ("setup", *DJANGO_SERVICES):
        assert services[name]["volumes"] == ["crm-data:/data"]
        assert services[name]["environment"]["VAR_DIR"] == "/data"
    assert set(compose["volumes"]) == {"pg-data", "crm-data", "redis-data"}


def test_compose_healthchecks_have_a_command_and_limits():
    services = _compose()["services"]
    for name in ("db", "redis", "web", "worker"):
        check = services[name]["healthcheck"]
        assert check["test"][0] in {"CMD", "CMD-SHELL"} and len(check["test"]) > 1, name
        assert {"interval", "timeout", "retries"} <= set(check), name


def _production_env(var_dir: Path) -> dict[str, str]:
    """The environment compose gives the Django services, with .env's two required settings; the
    embedded defaults for the rest, as nothing here reads the database or the broker."""
    env = {key: value for key, value in os.environ.items() if key not in DEPLOYMENT_UNSET}
    return env | {
        "DEBUG": "false",
        "SECRET_KEY": "x7#kq!v2e9_production-grade-secret-key-for-the-web-0f3a9d",
        "ALLOWED_HOSTS": "crm.maplemotors.example",
        "VAR_DIR": str(var_dir),
    }


def _gunicorn(command: list[str], port: int, var_dir: Path, *flags: str, **options: str) -> subprocess.Popen:
    """compose's web command on 127.0.0.1:port, with some options changed or added."""
    from tests.conftest import port_open

    assert command[0] == "gunicorn"
    arguments = [a for a in command[1:] if a.split("=")[0] not in {"--bind", *options}]
    arguments += [f"--bind=127.0.0.1:{port}", *flags, *(f"{name}={value}" for name, value in options.items())]
    log = var_dir / f"gunicorn-{port}.log"
    with log.open("w") as log_file:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", *arguments],
            cwd=ROOT,
            env=_production_env(var_dir),
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        )
    server.log = log
    deadline = time.monotonic() + 60
    try:
        while not port_open("127.0.0.1", port) or _get(port, "/login/", timeout=30)[0].status != 200:
            if server.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("the web server did not start")
            time.sleep(0.2)
    except BaseException:
        raise AssertionError(_stop(server)) from None
    return server


def _stop(server: subprocess.Popen) -> str:
    """Stop the server; what it logged."""
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
    return server.log.read_text()


@pytest.fixture(scope="module")
def production_var_dir(tmp_path_factory):
    """VAR_DIR once compose's setup has run collectstatic in it."""
    var_dir = tmp_path_factory.mktemp("production")
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=_production_env(var_dir),
        check=True,
    )
    return var_dir


@pytest.fixture(scope="module")
def production_web(production_var_dir):
    """compose's web command serving with DEBUG=false: (port, VAR_DIR)."""
    from tests.conftest import free_port

    port = free_port()
    server = _gunicorn(_compose()["services"]["web"]["command"], port, production_var_dir)
    yield port, production_var_dir
    _stop(server)


def _get(port: int, path: str, timeout: float = 10, **headers: str):
    """A GET as the store's reverse proxy makes it: the site's host name, and HTTPS said in a header."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    connection.request(
        "GET", path, headers={"Host": "crm.maplemotors.example", "X-Forwarded-Proto": "https", **headers}
    )
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response, body


def test_the_web_healthcheck_passes_with_the_documented_settings(production_web):
    port, _ = production_web
    healthcheck = _compose()["services"]["web"]["healthcheck"]
    check = healthcheck["test"]
    assert check[:2] == ["CMD", "python"]
    # As docker does: healthy once a check passes, within the retries (a worker's first page is slow).
    for _ in range(healthcheck["retries"]):
        result = subprocess.run(
            [sys.executable, *[part.replace("127.0.0.1:8000", f"127.0.0.1:{port}") for part in check[2:]]],
            env={"PATH": os.environ["PATH"], "ALLOWED_HOSTS": "crm.maplemotors.example"},
            capture_output=True,
            text=True,
            timeout=30,
        )
        if result.returncode == 0:
            break
        time.sleep(1)
    assert result.returncode == 0, result.stderr


def test_photos_are_served_with_debug_off_and_nothing_outside_the_public_folder(production_web):
    port, var_dir = production_web
    photo = var_dir / "media" / "inventory" / "7" / "abc-large.jpg"
    photo.parent.mkdir(parents=True)
    photo.write_bytes(b"\xff\xd8\xff\xe0 a published photo")
    original = var_dir / "private" / "inventory" / "originals" / "7" / "abc"
    original.parent.mkdir(parents=True)
    original.write_bytes(b"the original, with its GPS position")

    response, body = _get(port, "/media/inventory/7/abc-large.jpg")
    assert (response.status, body) == (200, photo.read_bytes())
    assert response.getheader("Content-Type") == "image/jpeg"
    assert "max-age=31536000" in response.getheader("Cache-Control")
    again, _ = _get(
        port, "/media/inventory/7/abc-large.jpg", **{"If-Modified-Since": response.getheader("Last-Modified")}
    )
    assert again.status == 304
    for path in (
        "/media/../private/inventory/originals/7/abc",
        "/media/%2e%2e/private/inventory/originals/7/abc",
        "/media/..%2fprivate/inventory/originals/7/abc",
        "/media/inventory/7/",
        "/media/inventory/7/missing.jpg",
    ):
        response, body = _get(port, path)
        assert response.status == 404 and b"GPS" not in body, path
    # Still an HTTPS-only site: a plain HTTP request is sent to HTTPS.
    response, _ = _get(port, "/media/inventory/7/abc-large.jpg", **{"X-Forwarded-Proto": "http"})
    assert response.status == 301 and response.getheader("Location").startswith(
        "https://crm.maplemotors.example/"
    )


def test_a_slow_photo_upload_outlasts_the_web_worker_timeout(production_var_dir):
    """A phone on a slow uplink sends its photos for longer than gunicorn's worker timeout: the web
    command's workers keep answering meanwhile and the request gets its answer (a sync worker is
    killed in the middle, and the phone gets a broken connection)."""
    import socket

    from tests.conftest import free_port

    port = free_port()
    command = _compose()["services"]["web"]["command"]
    # The application loaded before the workers start: a worker takes longer than 3 s to load it
    # on a busy machine, and would be stopped for that.
    server = _gunicorn(command, port, production_var_dir, "--preload", **{"--timeout": "3"})
    try:
        token = b"k" * 32  # a CSRF cookie and the same token in the form: the body is read to its end
        body = b"csrfmiddlewaretoken=" + token + b"&username=&password=&photos="
        body += b"x" * (72 - len(body))
        with socket.create_connection(("127.0.0.1", port), timeout=20) as upload:
            upload.sendall(
                b"POST /login/ HTTP/1.1\r\nHost: crm.maplemotors.example\r\nX-Forwarded-Proto: https\r\n"
                b"Origin: https://crm.maplemotors.example\r\nCookie: csrftoken=" + token + b"\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\n"
                b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
            )
            for start in range(0, len(body), 6):  # 12 pieces over 6 s
                upload.sendall(body[start : start + 6])
                time.sleep(0.5)
            answer = upload.recv(200)
    finally:
        log = _stop(server)
    # The login form, shown again for its empty fields: the whole body was read and answered.
    assert answer.startswith(b"HTTP/1.1 200"), answer + log.encode()
    assert "WORKER TIMEOUT" not in log


@pytest.mark.django_db
def test_a_ready_photo_is_served_with_debug_off_and_its_original_is_not(client, settings, tmp_path):
    """Only published photo sizes, stripped of their metadata, are under MEDIA_ROOT: the original
    photo (GPS position and all) and mail attachments are under PRIVATE_MEDIA_ROOT, outside it."""
    from PIL import Image

    from inventory.services.photos import photos_upload
    from leads.models import Attachment
    from tests import factories
    from tests.inventory import images

    settings.DEBUG = False
    settings.MEDIA_ROOT = tmp_path / "media"  # this test's own: what other tests published is not its
    vehicle = factories.vehicle()
    photos_upload(vehicle=vehicle, files=[images.upload("IMG_1.jpg", images.phone_jpeg())], process_now=True)
    photo = vehicle.photos.get()
    assert photo.status == "ready"

    media, private = Path(settings.MEDIA_ROOT).resolve(), Path(settings.PRIVATE_MEDIA_ROOT).resolve()
    assert media not in private.parents and private not in media.parents and media != private
    assert Path(Attachment._meta.get_field("file").storage.location).resolve() == private
    published = [path for path in media.rglob("*") if path.is_file()]
    assert published and all(path.name.startswith(f"{photo.key}-") for path in published)
    for path in published:
        with Image.open(path) as image:
            assert not image.getexif() and "exif" not in image.info, path

    for extension, content_type in (("jpg", "image/jpeg"), ("webp", "image/webp")):
        response = client.get(photo.url("large", extension))
        assert response.status_code == 200 and response["Content-Type"] == content_type
        assert (
            b"".join(response.streaming_content) == (media / photo.web_path("large", extension)).read_bytes()
        )

    original = f"inventory/originals/{vehicle.pk}/{photo.key}"
    assert (private / original).exists()
    relative = os.path.relpath(private, media)
    for path in (f"/media/{relative}/{original}", f"/media/{original}", "/media/%00", "/media/"):
        assert client.get(path).status_code == 404, path
    # Nor if the private folder were put inside the public one.
    settings.PRIVATE_MEDIA_ROOT = media / "inventory"
    assert client.get(photo.url("large", "jpg")).status_code == 404


def _docker_ignored(path: str) -> bool:
    """Whether .dockerignore keeps a file out of the build context, as docker reads it: patterns
    relative to the project, * within a folder, ** across folders, a folder taking its contents."""
    import re

    patterns = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            assert not line.startswith("!"), "exceptions are not read here"
            regex = re.escape(line.strip("/")).replace(r"\*\*", ".*").replace(r"\*", "[^/]*")
            patterns.append(re.compile(regex.replace(r"\?", "[^/]")))
    parts = path.split("/")
    prefixes = ["/".join(parts[: index + 1]) for index in range(len(parts))]
    return any(pattern.fullmatch(prefix) for pattern in patterns for prefix in prefixes)


def test_the_image_leaves_out_secrets_local_data_and_environments_and_keeps_the_product():
    for path in (
        ".env",
        ".env.production",
        ".venv/bin/python",
        "var/db.sqlite3",
        "var/mailbox/new/1.eml",
        "var/private/attachments/2026/11/abc",
        ".git/config",
        "leads/__pycache__/models.cpython-313.pyc",
        "test-artifacts/trace.zip",
        ".hypothesis/examples/x",
        "dealership_crm.egg-info/PKG-INFO",
    ):
        assert _docker_ignored(path), path
    product = [
        path.relative_to(ROOT).as_posix()
        for folder in ("dealership", "leads", "inventory", "promotions", "templates", "static")
        for path in (ROOT / folder).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    ]
    assert any(path.endswith(".mo") for path in product)  # the translations are in the image
    for path in [*product, "pyproject.toml", "README.md", "manage.py"]:
        assert not _docker_ignored(path), path
