"""Addresses of the public pages this application serves (the /offers/ pages, and the unsubscribe
page mail links to), and the store's own website as printed. Kept free of the PDF and QR libraries:
the worker that sends campaign mail formats these links too.

A QR code or a link in mail opens a page of this application, at SITE_URL; the store's website
(STORE_WEBSITE) may be another site altogether, hosted elsewhere, with no /offers/ pages. It is
printed for people to read, never linked to an offer."""

from urllib.parse import urlencode

from django.conf import settings

from dealership.text import web_address

from .models import Promotion

LEAFLET_SRC_PREFIX = "leaflet-"


def leaflet_src(promotion: Promotion) -> str:
    """The source code of a promotion's leaflet: it names the promotion (promotion_for_src)."""
    return f"{LEAFLET_SRC_PREFIX}{promotion.tracking_code}"


def website() -> str:
    """The store's own website address, whole, as printed on cards and leaflets."""
    return web_address(settings.STORE["website"])


def public_url(path: str) -> str:
    """A public page of this application (`path` from its root: "/offers/"), at SITE_URL made whole."""
    return f"{web_address(settings.SITE_URL)}{path}"


def tracked_url(path: str, src: str) -> str:
    """A public page of this application, tagged with where the visitor came from."""
    return f"{public_url(path)}?{urlencode({'src': src})}"


def landing_url(promotion: Promotion, *, src: str = "") -> str:
    """The promotion's landing page; with `src`, tagged with where the visitor came from."""
    path = f"/offers/{promotion.landing_slug}/"
    return tracked_url(path, src) if src else public_url(path)
