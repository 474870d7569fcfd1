"""Fixtures of the leads tests: real mail servers for mail in: Dovecot (IMAP), an aiosmtpd sink (SMTP), a Celery worker."""

import itertools
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest
from imapclient import IMAPClient

from dealership.models import Role
from tests import factories
from tests.conftest import free_port, port_open, service_missing

DOVECOT = "/usr/sbin/dovecot"
_users = itertools.count(1)
ROOT = Path(__file__).resolve().parents[2]


def wait_for_port(port: int, *, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not port_open("127.0.0.1", port):
        if time.monotonic() > deadline:
            raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")
        time.sleep(0.05)


class Dovecot:
    """A throwaway Dovecot with Maildirs, on a free loopback port.

    With `tls`, it holds a self-signed certificate for 127.0.0.1 (`certificate`), offers STARTTLS
    on `port`, speaks TLS from the start on `tls_port`, and refuses passwords sent in the clear."""

    password = "secret"

    def __init__(self, *, tls: bool = False):
        self.dir = Path(tempfile.mkdtemp(prefix="dovecot-"))
        self.port = free_port()
        self.tls_port = free_port() if tls else 0
        self.certificate = self.dir / "cert.pem" if tls else None
        self.user = "leads@example.test"

    def _tls_settings(self) -> str:
        if not self.certificate:
            return "ssl = no\ndisable_plaintext_auth = no"
        key = self.dir / "key.pem"
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1",
                "-keyout",
                str(key),
                "-out",
                str(self.certificate),
            ],
            check=True,
            capture_output=True,
        )
        return (
            f"ssl = required\nssl_cert = <{self.certificate}\nssl_key = <{key}\ndisable_plaintext_auth = yes"
        )

    def start(self) -> None:
        d = self.dir
        d.chmod(0o755)
        (d / "run").mkdir()
        (d / "mail").mkdir()
        shutil.chown(d / "mail", "nobody", "nogroup")
        tls_settings = self._tls_settings()
        (d / "dovecot.conf").write_text(
            textwrap.dedent(f"""\
                protocols = imap
                listen = 127.0.0.1
                base_dir = {d}/run
                state_dir = {d}/run
                log_path = {d}/dovecot.log
                auth_mechanisms = plain login
                passdb {{
                  driver = static
                  args = password={self.password}
                }}
                userdb {{
                  driver = static
                  args = uid=nobody gid=nogroup home={d}/mail/%u
                }}
                mail_location = maildir:~/Maildir
                service imap-login {{
                  inet_listener imap {{
                    address = 127.0.0.1
                    port = {self.port}
                  }}
                  inet_listener imaps {{
                    address = 127.0.0.1
                    port = {self.tls_port}
                    ssl = yes
                  }}
                }}
            """)
            + tls_settings
            + "\n"
        )
        subprocess.run([DOVECOT, "-c", str(d / "dovecot.conf")], check=True)
        wait_for_port(self.port)
        if self.tls_port:
            wait_for_port(self.tls_port)

    def stop(self) -> None:
        pid_file = self.dir / "run" / "master.pid"
        if pid_file.exists():
            pid = int(pid_file.read_text().strip())
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
                time.sleep(0.05)
        shutil.rmtree(self.dir, ignore_errors=True)

    def url_for(self, folder: str, *, scheme: str = "imap") -> str:
        port = self.tls_port if scheme == "imaps" else self.port
        return f"{scheme}://{self.user.replace('@', '%40')}:{self.password}@127.0.0.1:{port}/{folder}"

    @property
    def url(self) -> str:
        return self.url_for("INBOX")

    def client(self) -> IMAPClient:
        if self.certificate:
            context = ssl.create_default_context(cafile=self.certificate)
            client = IMAPClient("127.0.0.1", port=self.tls_port, ssl=True, ssl_context=context, timeout=30)
        else:
            client = IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=30)
        client.login(self.user, self.password)
        return client

    def append(self, *raws: bytes, folder: str = "INBOX") -> None:
        with self.client() as client:
            for raw in raws:
                client.append(folder, raw)

    def recreate_folder(self, folder: str, *raws: bytes) -> None:
        """(Delete and) create the folder (a new UIDVALIDITY) holding these messages."""
        with self.client() as client:
            if client.folder_exists(folder):
                client.delete_folder(folder)
            client.create_folder(folder)
            for raw in raws:
                client.append(folder, raw)

    def flags(self, folder: str = "INBOX") -> dict[int, tuple]:
        with self.client() as client:
            client.select_folder(folder, readonly=True)
            return {
                uid: data[b"FLAGS"] for uid, data in client.fetch(client.search("ALL"), ["FLAGS"]).items()
            }


@pytest.fixture(scope="session")
def dovecot_server():
    if not os.path.exists(DOVECOT):
        service_missing("needs Dovecot (apt-get install dovecot-imapd)")
    server = Dovecot()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def dovecot_tls_server():
    if not os.path.exists(DOVECOT):
        service_missing("needs Dovecot (apt-get install dovecot-imapd)")
    server = Dovecot(tls=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def dovecot_tls(dovecot_tls_server):
    """Like `dovecot`, on the server that speaks only TLS."""
    dovecot_tls_server.user = f"leads{next(_users)}@example.test"
    return dovecot_tls_server


@pytest.fixture
def dovecot(dovecot_server):
    """The server with a user of its own for this test (any user name logs in): an empty mailbox."""
    dovecot_server.user = f"leads{next(_users)}@example.test"
    return dovecot_server


def postgres_only(connection) -> None:
    if connection.vendor != "postgresql":
        service_missing(
            "needs PostgreSQL (DATABASE_URL=postgres://...): a Celery worker process shares the test database"
        )


class Worker:
    """`celery -A dealership worker` (with its beat) in its own process group."""

    def __init__(self, env: dict):
        self.env = env
        self.process = None
        self.log = tempfile.NamedTemporaryFile(prefix="celery-worker-", suffix=".log", delete=False)

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "dealership",
                "worker",
                "--beat",
                f"--schedule={self.env['VAR_DIR']}/celerybeat-schedule",
                "--concurrency=2",
                "--loglevel=WARNING",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self) -> None:
        """kill -9 the worker and its children, as a power cut would."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")


@pytest.fixture
def celery_worker_env(transactional_db, worker_broker, dovecot, smtp_sink):
    """The environment of a worker process that sees the test database, the test's own broker, the
    SMTP sink and Dovecot's folder "Leads" (created empty)."""
    from django.db import connection

    postgres_only(connection)
    db = connection.settings_dict
    var_dir = tempfile.mkdtemp(prefix="worker-var-")
    dovecot.recreate_folder("Leads")
    env = {
        **os.environ,
        **worker_broker.env,
        "DJANGO_SETTINGS_MODULE": "dealership.settings.base",
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}",
        "MAILBOX_URL": dovecot.url_for("Leads"),
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_sink.port),
        "MAILBOX_POLL_SECONDS": "1",
        "MAILBOX_IDLE_SECONDS": "2",
        "MAILBOX_LOCK_SECONDS": "5",
        "MAIL_REQUEUE_SECONDS": "5",
        "MAILBOX_FETCH_BATCH": "10",
        "VAR_DIR": var_dir,
        "MEDIA_ROOT": f"{var_dir}/media",
        "LOG_LEVEL": "WARNING",
    }
    yield env
    shutil.rmtree(var_dir, ignore_errors=True)


@pytest.fixture
def celery_worker(celery_worker_env):
    worker = Worker(celery_worker_env)
    worker.start()
    yield worker
    worker.stop()


@pytest.fixture
def sophie():
    """The internet sales supervisor, by name (test_replies has its own, with a signature)."""
    return factories.staff(Role.SUPERVISOR, first_name="Sophie", last_name="Tremblay").user


@pytest.fixture
def sophie_client(client, sophie):
    client.force_login(sophie)
    return client
