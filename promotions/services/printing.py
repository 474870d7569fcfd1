"""Print-ready PDFs carrying the website and a QR code whose link says where the visitor came from."""

import io

import segno
from django.conf import settings
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.units import inch
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from dealership.models import StaffMember

from ..links import landing_url, tracked_url, website
from ..models import OfferKind, Promotion
from ..pricing import price_terms

CARD_WIDTH, CARD_HEIGHT = 3.5 * inch, 2 * inch
BLEED = 0.125 * inch  # what print shops ask for beyond the trim line
SAFE = 0.125 * inch  # inside the trim line, nothing important


def card_url(member: StaffMember) -> str:
    return tracked_url("/offers/", f"card-{member.user.get_username()}")


def leaflet_url(promotion: Promotion) -> str:
    return landing_url(promotion, src=f"leaflet-{promotion.tracking_code}")


def _qr(url: str) -> ImageReader:
    png = io.BytesIO()
    segno.make(url, error="m", micro=False).save(png, kind="png", scale=10, border=4)
    png.seek(0)
    return ImageReader(png)


def _display_website() -> str:
    return website().removeprefix("https://").removeprefix("http://")


def business_card_pdf(*, member: StaffMember) -> bytes:
    """A 3.5 x 2 in card with 1/8 in bleed on every side, trim and bleed boxes set for the printer."""
    out = io.BytesIO()
    width, height = CARD_WIDTH + 2 * BLEED, CARD_HEIGHT + 2 * BLEED
    canvas = Canvas(out, pagesize=(width, height))
    canvas.setTitle(f"Business card — {member.name}")
    canvas.setTrimBox((BLEED, BLEED, BLEED + CARD_WIDTH, BLEED + CARD_HEIGHT))
    canvas.setBleedBox((0, 0, width, height))
    # The band runs into the bleed so no white edge shows after trimming.
    canvas.setFillColorRGB(0.11, 0.23, 0.42)
    canvas.rect(0, height - BLEED - 0.42 * inch, width, BLEED + 0.42 * inch, stroke=0, fill=1)
    left = BLEED + SAFE
    canvas.setFillColorRGB(1, 1, 1)
    canvas.setFont("Helvetica-Bold", 11)
    canvas.drawString(left, height - BLEED - 0.28 * inch, settings.STORE["name"])
    canvas.setFillColorRGB(0, 0, 0)
    canvas.setFont("Helvetica-Bold", 10)
    canvas.drawString(left, BLEED + 1.2 * inch, member.name)
    canvas.setFont("Helvetica", 8)
    lines = [member.title or member.get_role_display(), member.department.name, member.phone, member.email]
    y = BLEED + 1.05 * inch
    for line in filter(None, lines):
        canvas.drawString(left, y, line)
        y -= 0.13 * inch
    canvas.setFont("Helvetica-Bold", 8)
    canvas.drawString(left, BLEED + SAFE + 0.02 * inch, _display_website())
    qr_size = 1.05 * inch
    canvas.drawImage(
        _qr(card_url(member)), BLEED + CARD_WIDTH - SAFE - qr_size, BLEED + SAFE, qr_size, qr_size
    )
    canvas.showPage()
    canvas.save()
    return out.getvalue()


def _offer_line(promotion: Promotion) -> str:
    if promotion.offer_kind == OfferKind.PRICE and promotion.advertised_price:
        return f"${promotion.advertised_price:,.2f} {price_terms(promotion.fees)}"
    if promotion.offer_kind in (OfferKind.FINANCING, OfferKind.LEASE) and promotion.rate is not None:
        return f"{promotion.get_offer_kind_display()}: {promotion.rate}%"
    return promotion.get_offer_kind_display() if promotion.offer_kind else ""


def leaflet_pdf(*, promotion: Promotion) -> bytes:
    """A letter-size leaflet: the offer, the models, the dates, the website and the tracked QR code."""
    out = io.BytesIO()
    width, height = LETTER
    canvas = Canvas(out, pagesize=LETTER)
    canvas.setTitle(promotion.name)
    margin = 0.75 * inch
    canvas.setFillColorRGB(0.11, 0.23, 0.42)
    canvas.rect(0, height - 1.4 * inch, width, 1.4 * inch, stroke=0, fill=1)
    canvas.setFillColorRGB(1, 1, 1)
    canvas.setFont("Helvetica-Bold", 28)
    canvas.drawString(margin, height - 0.95 * inch, promotion.name[:40])
    canvas.setFillColorRGB(0, 0, 0)
    y = height - 2.0 * inch
    canvas.setFont("Helvetica-Bold", 18)
    if offer := _offer_line(promotion):
        canvas.drawString(margin, y, offer)
        y -= 0.4 * inch
    canvas.setFont("Helvetica", 12)
    canvas.drawString(margin, y, f"From {promotion.starts_on:%B %-d, %Y} to {promotion.ends_on:%B %-d, %Y}")
    y -= 0.35 * inch
    text = canvas.beginText(margin, y)
    text.setFont("Helvetica", 12)
    for model in promotion.models.all():
        text.textLine(f"• {model}")
    for line in (promotion.service_offers or "").splitlines():
        if line.strip():
            text.textLine(f"• {line.strip()}")
    for line in (promotion.offer_description or "").splitlines():
        text.textLine(line)
    canvas.drawText(text)
    qr_size = 2.2 * inch
    canvas.drawImage(_qr(leaflet_url(promotion)), width - margin - qr_size, 1.6 * inch, qr_size, qr_size)
    canvas.setFont("Helvetica-Bold", 16)
    canvas.drawString(margin, 2.6 * inch, _display_website())
    canvas.setFont("Helvetica", 11)
    canvas.drawString(margin, 2.3 * inch, f"Scan the code, or quote code {promotion.tracking_code}.")
    canvas.drawString(
        margin, 2.1 * inch, f"Balayez le code, ou mentionnez le code {promotion.tracking_code}."
    )
    store = settings.STORE
    canvas.drawString(margin, 1.0 * inch, f"{store['name']} · {store['address']} · {store['phone']}")
    canvas.showPage()
    canvas.save()
    return out.getvalue()
