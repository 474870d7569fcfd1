"""A real SMTP server on a free loopback port that keeps every message it receives."""

import socket
from contextlib import contextmanager
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller


class _Keeper:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted"


def _free_port() -> int:
    # aiosmtpd cannot bind port 0 itself (its start-up check connects to the port).
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def smtp_sink(settings):
    """Route the default mailer to a fresh SMTP sink; yields the list of (recipients, message)."""
    keeper = _Keeper()
    controller = Controller(keeper, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": controller.port, "timeout": 10},
        }
    }
    try:
        yield keeper.messages
    finally:
        controller.stop()
