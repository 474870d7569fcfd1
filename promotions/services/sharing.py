"""Forwarding information to colleagues and departments, with a record of who got it."""

from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction

from dealership.queueing import queue_now, queue_on_commit
from leads.services.replies import REFUSALS, smtp_refusal_text

from ..models import InfoShare
from ..selectors import info_share_waiting


@transaction.atomic
def info_share_create(
    *, sent_by, subject: str, text: str, link: str = "", staff=(), departments=()
) -> InfoShare:
    """Record what is shared with whom; the mail goes out once the record is committed."""
    if not staff and not departments:
        raise ValueError("Choose at least one staff member or department.")
    if unreachable := [member for member in staff if not member.email]:
        raise ValueError(f"No email address, so they could not be told: {', '.join(map(str, unreachable))}.")
    share = InfoShare.objects.create(sent_by=sent_by, subject=subject, text=text, link=link)
    share.staff.set(staff)
    share.departments.set(departments)
    from ..tasks import info_share_deliver_task

    # The broker down (Redis restarting) keeps the share: info_shares_resume sends it later.
    queue_on_commit(info_share_deliver_task, share_id=share.pk)
    return share


# Information whose task was lost (the broker was down when it was shared) or gave up (the mail
# server was down longer than its retries) is sent by the campaigns' periodic sweep
# (campaigns_resume): once SHARE_GRACE has passed, when its own task is surely done, and until
# SHARE_GIVE_UP_AFTER, as other mail (replies).
SHARE_GRACE = timedelta(minutes=15)
SHARE_GIVE_UP_AFTER = timedelta(days=2)


def info_shares_resume(*, now: datetime) -> int:
    """Queue again the recent shares still to reach someone; how many. Delivery skips whoever has
    it already."""
    from ..tasks import info_share_deliver_task

    shares = InfoShare.objects.filter(
        created_at__lt=now - SHARE_GRACE, created_at__gte=now - SHARE_GIVE_UP_AFTER
    ).prefetch_related("staff__user", "departments")
    waiting = [share.pk for share in shares if info_share_waiting(share)]
    for pk in waiting:
        queue_now(info_share_deliver_task, share_id=pk)
    return len(waiting)


def info_share_deliver(*, share: InfoShare) -> list[str]:
    """Send the information to every person and department mailbox chosen, once each. An address
    the mail server refuses (a mailbox closed) is recorded with its answer and the others still get
    it; a server that cannot be reached raises, for a retry."""
    wanted = info_share_waiting(share)
    sender = share.sent_by.get_full_name() if share.sent_by else settings.STORE["name"]
    body = f"{share.text}\n\n{share.link}\n\n— {sender}" if share.link else f"{share.text}\n\n— {sender}"
    reply_to = [share.sent_by.email] if share.sent_by and share.sent_by.email else []
    for address in wanted:
        try:
            EmailMessage(subject=share.subject, body=body, to=[address], reply_to=reply_to).send()
        except REFUSALS as error:
            share.refused = {**share.refused, address: smtp_refusal_text(error)}
            share.save(update_fields=["refused"])
            continue
        share.delivered_to = [*share.delivered_to, address]
        share.save(update_fields=["delivered_to"])
    return share.delivered_to
