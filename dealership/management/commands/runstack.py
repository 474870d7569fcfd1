"""Run the web server, a Celery worker and Celery beat together; one Ctrl-C stops all three."""

import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand


def _interrupt(signum, frame):
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = "Start web (127.0.0.1:8000), a Celery worker and Celery beat in one terminal."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000")

    def handle(self, *args, addr: str, **options):
        var = Path(settings.VAR_DIR)
        for folder in (
            "celery/queue",
            "celery/processed",
            "mailbox/new",
            "mailbox/cur",
            "mailbox/tmp",
            "outbox",
        ):
            (var / folder).mkdir(parents=True, exist_ok=True)
        python = sys.executable
        commands = {
            "web": [python, "manage.py", "runserver", addr, "--noreload"],
            "worker": [
                python,
                "-m",
                "celery",
                "-A",
                "dealership",
                "worker",
                "--loglevel=INFO",
                "--concurrency=2",
            ],
            "beat": [
                python,
                "-m",
                "celery",
                "-A",
                "dealership",
                "beat",
                "--loglevel=INFO",
                f"--schedule={var / 'celerybeat-schedule'}",
            ],
        }
        # Ctrl-C, or a TERM from a supervisor, stops all three (even when started with SIGINT ignored).
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, _interrupt)
        processes = {name: subprocess.Popen(command) for name, command in commands.items()}
        self.stdout.write(
            self.style.SUCCESS(f"\nCRM running at http://{addr}/  (Ctrl-C stops web, worker and beat)")
        )
        self.stdout.write(f"Drop .eml files into {var / 'mailbox' / 'new'} to see them arrive as leads.\n")
        try:
            # A worker or beat that exits (say, the broker went away) is started again, as a process
            # supervisor would; the web server exiting ends the whole stack.
            while processes["web"].poll() is None:
                for name in ("worker", "beat"):
                    if processes[name].poll() is not None:
                        self.stderr.write(f"{name} exited; starting it again.")
                        processes[name] = subprocess.Popen(commands[name])
                time.sleep(0.5)
            self.stderr.write("The web server stopped; stopping the worker and beat.")
        except KeyboardInterrupt:
            pass
        finally:
            for process in processes.values():
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            for process in processes.values():
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
