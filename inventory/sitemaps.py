from django.contrib.sitemaps import Sitemap

from .models import Vehicle
from .selectors import vehicle_public_list


class PublishedVehicleSitemap(Sitemap):
    """Every vehicle the website lists."""

    changefreq = "daily"

    def items(self):
        return vehicle_public_list()

    def lastmod(self, vehicle: Vehicle):
        return vehicle.updated_at
