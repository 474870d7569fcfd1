from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.utils.translation import gettext_lazy as _


class LeadsConfig(AppConfig):
    name = "leads"
    verbose_name = _("Leads and customers")

    def ready(self):
        from django.core import checks

        from .checks import mailbox_urls_check
        from .normalize import sqlite_search_form_add

        checks.register(mailbox_urls_check, "settings")
        connection_created.connect(sqlite_search_form_add, dispatch_uid="leads.sqlite_search_form")
