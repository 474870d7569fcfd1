"""Start-up checks of the settings the leads app reads (`manage.py check`, runserver, migrate)."""

from django.conf import settings
from django.core.checks import Error

from .mail.sources import MAILBOX_URL_FORM, MailboxURLError, parse_mailbox_url


def mailbox_urls_check(app_configs, **kwargs) -> list[Error]:
    """Every MAILBOX_URL entry can be polled. The messages name an entry by its place in the list,
    never by its text: it holds the mailbox's password."""
    urls = [url for url in settings.MAILBOX_URLS if url.strip()]
    errors = []
    for number, url in enumerate(urls, start=1):
        try:
            parse_mailbox_url(url)
        except MailboxURLError as error:
            errors.append(
                Error(
                    f"Mailbox {number} of {len(urls)}: {error}",
                    hint=MAILBOX_URL_FORM,
                    obj="MAILBOX_URL",
                    id="leads.E001",
                )
            )
    return errors
