"""The store's outgoing mail."""

import email.policy

from django.core.mail import EmailMessage


class StoreEmailMessage(EmailMessage):
    """An email whose header lines are folded only past RFC 5322's limit of 998 characters, not at
    78. A List-Unsubscribe address longer than 78 characters has nowhere to fold and would otherwise
    go out encoded (=?utf-8?q?…?=), which mail programs do not read as the one-click link."""

    def message(self, *, policy=email.policy.default):
        return super().message(policy=policy.clone(max_line_length=998))
