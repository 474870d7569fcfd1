"""Print-ready PDFs carrying the website and a QR code whose link says where the visitor came from."""

import io
from datetime import date

import segno
from django.conf import settings
from django.utils import formats, translation
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.units import inch
from reportlab.lib.utils import ImageReader, simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from dealership.models import StaffMember

from ..links import landing_url, leaflet_src, tracked_url, website
from ..models import Promotion
from ..pricing import PRINTED_LANGUAGES, offer_lines
from .promotions import promotion_publishable_check

CARD_WIDTH, CARD_HEIGHT = 3.5 * inch, 2 * inch
BLEED = 0.125 * inch  # what print shops ask for beyond the trim line
SAFE = 0.125 * inch  # inside the trim line, nothing important
LEADING = 1.2  # line height, times the font size
CARD_SIZES = (8, 7, 6)  # a card's small type: 6 pt is still read without a magnifier


def card_url(member: StaffMember) -> str:
    return tracked_url("/offers/", f"card-{member.user.get_username()}")


def leaflet_url(promotion: Promotion) -> str:
    """Its landing page; without one (a radio or in-store promotion), the offers on now and the
    store's contact form, never a page that is not found."""
    src = leaflet_src(promotion)
    return landing_url(promotion, src=src) if promotion.has_landing_page else tracked_url("/offers/", src)


def _qr(url: str) -> ImageReader:
    png = io.BytesIO()
    segno.make(url, error="m", micro=False).save(png, kind="png", scale=10, border=4)
    png.seek(0)
    return ImageReader(png)


def _display_website() -> str:
    return website().removeprefix("https://").removeprefix("http://")


def _in_both_languages(words) -> str:
    """`words()` as printed whoever prints: in English, then in French when it differs ("Sales / Ventes")."""
    printed = []
    for language in PRINTED_LANGUAGES:
        with translation.override(language):
            printed.append(str(words()))
    return " / ".join(dict.fromkeys(printed))


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
    safe_width = CARD_WIDTH - 2 * SAFE
    qr_size = 1.05 * inch
    qr_x = BLEED + CARD_WIDTH - SAFE - qr_size
    beside_qr = qr_x - left - 0.08 * inch
    canvas.setFillColorRGB(1, 1, 1)
    _draw_one_line(
        canvas,
        left,
        height - BLEED - 0.28 * inch,
        settings.STORE["name"],
        "Helvetica-Bold",
        (11, 10, 9),
        safe_width,
    )
    canvas.setFillColorRGB(0, 0, 0)
    _draw_one_line(canvas, left, BLEED + 1.2 * inch, member.name, "Helvetica-Bold", (10, 9, 8), safe_width)
    # Beside the QR code: two lines at most, in smaller type if need be; an address breaks before its @.
    lines = [
        member.title or _in_both_languages(member.get_role_display),
        _in_both_languages(lambda: member.department),
        member.phone,
        member.email.replace("@", " @"),
    ]
    y = BLEED + 1.05 * inch
    for line in filter(None, lines):
        size, wrapped = _fit(line, "Helvetica", CARD_SIZES, beside_qr, 2 * CARD_SIZES[0] * LEADING)
        y = _draw_lines(canvas, left, y, "Helvetica", size, [part.replace(" @", "@") for part in wrapped])
    _draw_one_line(
        canvas, left, BLEED + SAFE + 0.02 * inch, _display_website(), "Helvetica-Bold", CARD_SIZES, beside_qr
    )
    canvas.drawImage(_qr(card_url(member)), qr_x, BLEED + SAFE, qr_size, qr_size)
    canvas.showPage()
    canvas.save()
    return out.getvalue()


def _offer(promotion: Promotion) -> str:
    return "\n".join(
        offer_lines(
            offer_kind=promotion.offer_kind,
            advertised_price=promotion.advertised_price,
            rate=promotion.rate,
            fees=promotion.fees,
        )
    )


def _printed_date(day: date, language: str) -> str:
    """December 1, 2026; in French, 5 janvier 2027 and the first of a month 1er décembre 2026."""
    if language == "fr":
        return formats.date_format(day, r"j\e\r F Y" if day.day == 1 else "j F Y")
    return formats.date_format(day, "F j, Y")


def _period(promotion: Promotion) -> str:
    """ "From December 1, 2026 to January 5, 2027", then « Du 1er décembre 2026 au 5 janvier 2027 »."""
    lines = []
    for language in PRINTED_LANGUAGES:
        with translation.override(language):
            lines.append(
                _("From %(start)s to %(end)s")
                % {
                    "start": _printed_date(promotion.starts_on, language),
                    "end": _printed_date(promotion.ends_on, language),
                }
            )
    return "\n".join(lines)


def _fit(text: str, font: str, sizes: tuple[int, ...], width: float, height: float) -> tuple[int, list[str]]:
    """`text` wrapped to `width` at the largest of `sizes` whose lines fit in `height` (a word too long
    for `width` asks for a smaller size). At the smallest size, the lines that fit, the last ending in
    an ellipsis: the landing page has the whole text."""
    for size in sizes:
        lines = [
            line
            for paragraph in text.splitlines() or [""]
            for line in simpleSplit(paragraph, font, size, width) or [""]
        ]
        if len(lines) * size * LEADING <= height and all(
            stringWidth(line, font, size) <= width for line in lines
        ):
            return size, lines
    keep = max(1, int(height // (size * LEADING)))
    if len(lines) > keep:
        last = lines[keep - 1]
        while last and stringWidth(f"{last} …", font, size) > width:
            last = last.rpartition(" ")[0]
        lines = [*lines[: keep - 1], f"{last} …"]
    return size, lines


def _draw_one_line(
    canvas: Canvas, x: float, y: float, text: str, font: str, sizes: tuple[int, ...], width: float
):
    """`text` on one line within `width`: smaller if need be, cut short with an ellipsis at the smallest size."""
    size, lines = _fit(text, font, sizes, width, sizes[0] * LEADING)
    _draw_lines(canvas, x, y, font, size, lines)


def _draw_lines(canvas: Canvas, x: float, top: float, font: str, size: int, lines: list[str]) -> float:
    """Draw the lines with their first baseline at `top`; returns the baseline after the last one."""
    text = canvas.beginText(x, top)
    text.setFont(font, size, leading=size * LEADING)
    for line in lines:
        text.textLine(line)
    canvas.drawText(text)
    return top - len(lines) * size * LEADING


def leaflet_pdf(*, promotion: Promotion) -> bytes:
    """A letter-size leaflet: the offer, the models, the dates, the website and the tracked QR code.
    Text is wrapped, and made smaller when long, so nothing runs off the page or over the QR code.
    A leaflet is advertising: refused (PromotionError) while the promotion could not be published."""
    promotion_publishable_check(promotion)
    out = io.BytesIO()
    width, height = LETTER
    canvas = Canvas(out, pagesize=LETTER)
    canvas.setTitle(promotion.name)
    margin = 0.75 * inch
    text_width = width - 2 * margin
    band = 1.4 * inch
    canvas.setFillColorRGB(0.11, 0.23, 0.42)
    canvas.rect(0, height - band, width, band, stroke=0, fill=1)
    canvas.setFillColorRGB(1, 1, 1)
    size, lines = _fit(promotion.name, "Helvetica-Bold", (28, 24, 20, 18), text_width, band - 0.3 * inch)
    # The name's lines centred in the band, by their baselines.
    top = height - band / 2 + (len(lines) * size * LEADING) / 2 - size
    _draw_lines(canvas, margin, top, "Helvetica-Bold", size, lines)
    canvas.setFillColorRGB(0, 0, 0)
    y = height - 2.0 * inch
    if offer := _offer(promotion):
        # Room for the price and its terms on two lines in each language.
        size, lines = _fit(offer, "Helvetica-Bold", (18, 16, 14, 12), text_width, 4 * 14 * LEADING)
        y = _draw_lines(canvas, margin, y, "Helvetica-Bold", size, lines) - 0.15 * inch
    y = _draw_lines(canvas, margin, y, "Helvetica", 12, _period(promotion).splitlines()) - 0.2 * inch
    body = [f"• {model}" for model in promotion.models.all()]
    body += [f"• {line.strip()}" for line in (promotion.service_offers or "").splitlines() if line.strip()]
    body += (promotion.offer_description or "").splitlines()
    if body:
        # Down to the top of the QR code and the website beside it.
        size, lines = _fit("\n".join(body), "Helvetica", (12, 11, 10, 9), text_width, y - 4.0 * inch)
        _draw_lines(canvas, margin, y, "Helvetica", size, lines)
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
