from django.apps import AppConfig


class DealershipConfig(AppConfig):
    name = "dealership"
    verbose_name = "Dealership"

    def ready(self):
        from .auth_backends import connect_permission_signals

        connect_permission_signals()
