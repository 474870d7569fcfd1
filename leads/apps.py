from django.apps import AppConfig
from django.db.backends.signals import connection_created


class LeadsConfig(AppConfig):
    name = "leads"
    verbose_name = "Leads and customers"

    def ready(self):
        from .normalize import sqlite_search_form_add

        connection_created.connect(sqlite_search_form_add, dispatch_uid="leads.sqlite_search_form")
