from django.apps import AppConfig


class DealershipConfig(AppConfig):
    name = "dealership"
    verbose_name = "Dealership"

    def ready(self):
        from .auth_backends import connect_auth_cache_signals

        connect_auth_cache_signals()
