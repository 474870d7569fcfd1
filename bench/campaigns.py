"""Campaign mails per second through the exactly-once path, against a bare send loop.

Ours: claim a batch with row locks, ask the consent ledger again, render per language, send, mark
each row sent and put the mail on the customer's timeline. The baseline, in the same run: the same
mails rendered and sent in a plain loop with no bookkeeping. Both use Django's in-memory mail
backend, so what is measured is the CRM's own cost per mail. Prints both rates and the ratio.
Run: .venv/bin/python bench/campaigns.py [recipients]   (DATABASE_URL picks the database)
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dealership.settings.test")

import django  # noqa: E402

django.setup()

from django.core import mail  # noqa: E402
from django.core.mail import EmailMessage  # noqa: E402
from django.test.utils import setup_databases, setup_test_environment, teardown_databases  # noqa: E402


def main(recipients: int) -> None:
    from promotions.models import CampaignRecipient
    from promotions.services.campaigns import campaign_batch_send, campaign_start
    from tests import factories

    customers = [
        factories.customer_with_email_consent(first_name=f"Bench{n}", language="fr" if n % 3 == 0 else "en")
        for n in range(recipients)
    ]
    campaign = factories.campaign()
    campaign_start(campaign=campaign)

    mail.outbox = []
    started = time.perf_counter()
    for customer in customers:
        french = customer.language == "fr"
        EmailMessage(
            subject=(campaign.subject_fr if french else campaign.subject_en).replace(
                "{first_name}", customer.first_name
            ),
            body=(campaign.body_fr if french else campaign.body_en).replace(
                "{first_name}", customer.first_name
            ),
            to=[customer.email],
        ).send()
    baseline = recipients / (time.perf_counter() - started)

    mail.outbox = []
    started = time.perf_counter()
    while campaign_batch_send(campaign=campaign, limit=20):
        pass
    ours = recipients / (time.perf_counter() - started)
    assert len(mail.outbox) == recipients == CampaignRecipient.objects.filter(status="sent").count()

    print(f"database: {django.db.connection.vendor}, recipients: {recipients}")
    print(f"bare send loop:        {baseline:8.0f} mails/s")
    print(f"exactly-once campaign: {ours:8.0f} mails/s")
    print(f"ratio (ours / bare):   {ours / baseline:8.3f}")


if __name__ == "__main__":
    setup_test_environment()
    names = setup_databases(verbosity=0, interactive=False)
    try:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
    finally:
        teardown_databases(names, verbosity=0)
