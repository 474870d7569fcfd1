"""Poll the configured mailboxes now (for cron, or to watch what happens), routing what arrives."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand

from leads.mail.polling import poll_source
from leads.mail.sources import configured_sources
from leads.models import ForwardedMail, InboundMail, InboundStatus, Message
from leads.services.mail import InboundRetry, forward_send, inbound_process
from leads.services.replies import MailServerUnavailable, message_deliver


class Command(BaseCommand):
    help = (
        "Store new mail from every MAILBOX_URL and route it in this process. With --once, one pass; "
        "otherwise keep going (IMAP IDLE where offered, else every MAILBOX_POLL_SECONDS) until Ctrl-C."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Poll each mailbox once, then stop.")

    def handle(self, *args, once: bool, **options):
        try:
            while True:
                self.poll_all(idle_seconds=0 if once else settings.MAILBOX_IDLE_SECONDS)
                if once:
                    return
                if settings.MAILBOX_IDLE_SECONDS <= 0:
                    time.sleep(settings.MAILBOX_POLL_SECONDS)
        except KeyboardInterrupt:
            self.stdout.write("Stopped.")

    def poll_all(self, *, idle_seconds: float) -> None:
        for source in configured_sources():
            result = poll_source(source, idle_seconds=idle_seconds)
            if result.locked_elsewhere:
                self.stdout.write(f"{source.name}: being polled elsewhere, skipped.")
                continue
            self.stdout.write(f"{source.name}: {result.seen} read, {result.stored} new.")
        # Route and send here rather than wait for a worker, so the command alone is enough.
        for pk in InboundMail.objects.filter(status=InboundStatus.PENDING).values_list("pk", flat=True):
            try:
                status = inbound_process(inbound_id=pk)
            except InboundRetry as error:
                status = f"will be retried ({error.__cause__})"
            self.stdout.write(f"  inbound mail {pk}: {status}")
        self.send_queued("email", Message, lambda pk: message_deliver(message_id=pk))
        self.send_queued("forward", ForwardedMail, lambda pk: forward_send(forwarded_id=pk))

    def send_queued(self, label: str, model, send) -> None:
        for pk in model.objects.filter(send_status=Message.SendStatus.QUEUED).values_list("pk", flat=True):
            try:
                status = send(pk).send_status
            except MailServerUnavailable as error:  # kept queued, tried again next pass
                status = f"not sent yet ({error})"
            self.stdout.write(f"  {label} {pk}: {status}")
