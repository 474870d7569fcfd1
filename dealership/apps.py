from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DealershipConfig(AppConfig):
    name = "dealership"
    verbose_name = _("Dealership")

    def ready(self):
        from django.core import checks

        from .auth_backends import connect_auth_cache_signals
        from .checks import store_identity_check

        connect_auth_cache_signals()
        checks.register(store_identity_check, checks.Tags.security, deploy=True)
