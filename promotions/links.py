"""Addresses on the store's public website. Kept free of the PDF and QR libraries: the worker
that sends campaign mail formats these links too."""

from urllib.parse import urlencode

from django.conf import settings

from .models import Promotion

LEAFLET_SRC_PREFIX = "leaflet-"


def leaflet_src(promotion: Promotion) -> str:
    """The source code of a promotion's leaflet: it names the promotion (promotion_for_src)."""
    return f"{LEAFLET_SRC_PREFIX}{promotion.tracking_code}"


def website() -> str:
    """The store's website address, whole: set as "www.…", a QR code of it would open no page."""
    address = settings.STORE["website"].strip().rstrip("/")
    return address if "://" in address else f"https://{address}"


def tracked_url(path: str, src: str) -> str:
    """A page of the store's website, tagged with where the visitor came from."""
    return f"{website()}{path}?{urlencode({'src': src})}"


def landing_url(promotion: Promotion, *, src: str = "") -> str:
    """The promotion's landing page; with `src`, tagged with where the visitor came from."""
    path = f"/offers/{promotion.landing_slug}/"
    return tracked_url(path, src) if src else f"{website()}{path}"
