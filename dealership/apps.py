from django.apps import AppConfig


class DealershipConfig(AppConfig):
    name = "dealership"
    verbose_name = "Dealership"
