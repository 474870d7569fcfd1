import shutil
import subprocess
from datetime import date

import pytest
from django.utils import translation
from pypdf import PdfReader

from promotions.services.printing import business_card_pdf, leaflet_pdf
from promotions.services.promotions import PromotionError
from tests import factories

pytestmark = pytest.mark.django_db
POINTS_PER_INCH = 72
NBSP = "\u00a0"


def _qr_codes(pdf: bytes, tmp_path) -> list[str]:
    """Render the PDF as a print shop would and read every QR code on it."""
    for program, package in (("pdftoppm", "poppler-utils"), ("zbarimg", "zbar-tools")):
        if not shutil.which(program):
            from tests.conftest import service_missing

            service_missing(f"needs {program} (apt-get install {package})")
    (tmp_path / "print.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "300", "-png", tmp_path / "print.pdf", tmp_path / "page"], check=True)
    pages = sorted(tmp_path.glob("page*.png"))
    assert pages, "pdftoppm rendered no page"
    result = subprocess.run(
        ["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", *pages],
        capture_output=True,
        text=True,
    )
    return result.stdout.split()


def _text(pdf: bytes, tmp_path) -> str:
    (tmp_path / "text.pdf").write_bytes(pdf)
    return "".join(page.extract_text() for page in PdfReader(tmp_path / "text.pdf").pages)


def test_business_card_is_3_5_by_2_inches_with_bleed_and_a_tracked_qr_code(tmp_path, settings):
    member = factories.staff(
        "advisor", username="jroy", first_name="Julie", last_name="Roy", phone="+14165550142"
    )
    pdf = business_card_pdf(member=member)
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    (tmp_path / "card.pdf").write_bytes(pdf)
    page = PdfReader(tmp_path / "card.pdf").pages[0]
    trim, bleed = page.trimbox, page.bleedbox
    assert (float(trim.width) / POINTS_PER_INCH, float(trim.height) / POINTS_PER_INCH) == (3.5, 2.0)
    assert (float(bleed.width) / POINTS_PER_INCH, float(bleed.height) / POINTS_PER_INCH) == (3.75, 2.25)
    text = _text(pdf, tmp_path)
    assert "Julie Roy" in text and "www.maplemotors.example" in text and "+14165550142" in text
    assert _qr_codes(pdf, tmp_path) == [f"{settings.SITE_URL}/offers/?src=card-jroy"]


def test_addresses_set_without_https_still_give_a_qr_code_a_phone_opens(tmp_path, settings):
    settings.STORE = {**settings.STORE, "website": "www.maplemotors.example/"}
    settings.SITE_URL = "crm.maplemotors.example/"
    member = factories.staff("advisor", username="jroy")
    pdf = business_card_pdf(member=member)
    assert _qr_codes(pdf, tmp_path) == ["https://crm.maplemotors.example/offers/?src=card-jroy"]
    assert "www.maplemotors.example" in _text(pdf, tmp_path)


def test_a_site_url_set_without_https_gives_mail_links_the_same_whole_address_as_qr_codes(settings):
    """The campaign mail that carries a landing page's link also carries its unsubscribe link: both
    at the same address."""
    from leads.services.consent import absolute_unsubscribe_url
    from promotions.links import landing_url

    settings.SITE_URL = "crm.maplemotors.example/"
    promotion = factories.promotion()
    unsubscribe = absolute_unsubscribe_url(factories.customer(), language="en")
    assert landing_url(promotion).startswith("https://crm.maplemotors.example/offers/")
    assert unsubscribe.startswith("https://crm.maplemotors.example/u/"), unsubscribe


def test_the_qr_codes_open_this_applications_offer_pages_while_the_stores_own_website_is_printed(
    tmp_path, settings, client
):
    """The store's website is often another site (the manufacturer's web provider), with no
    /offers/ pages: the QR codes go to the pages this application serves, at SITE_URL."""
    settings.STORE = {**settings.STORE, "website": "https://www.maplemotors.example"}
    settings.SITE_URL = "https://crm.maplemotors.example"
    member = factories.staff("advisor", username="jroy")
    promotion = factories.promotion(landing_slug="civic-days", offer_kind="price", advertised_price="27995")
    card, leaflet = business_card_pdf(member=member), leaflet_pdf(promotion=promotion)
    src = f"leaflet-{promotion.tracking_code}"
    (tmp_path / "card").mkdir(), (tmp_path / "leaflet").mkdir()
    codes = _qr_codes(card, tmp_path / "card") + _qr_codes(leaflet, tmp_path / "leaflet")
    assert codes == [
        "https://crm.maplemotors.example/offers/?src=card-jroy",
        f"https://crm.maplemotors.example/offers/civic-days/?src={src}",
    ]
    for pdf in (card, leaflet):
        text = _text(pdf, tmp_path)
        assert "www.maplemotors.example" in text and "crm.maplemotors.example" not in text
    # The general offers page the card opens is this application's.
    assert client.get(codes[0].removeprefix(settings.SITE_URL)).status_code == 200


def test_leaflet_is_letter_size_with_the_offer_and_a_qr_code_to_its_landing_page(tmp_path, settings):
    promotion = factories.promotion(
        name="Civic days",
        landing_slug="civic-days",
        offer_kind="price",
        advertised_price="27995",
        models=[{"make": "Honda", "model": "Civic", "year": 2026}],
        starts_on=date(2026, 12, 1),
        ends_on=date(2027, 1, 5),
    )
    pdf = leaflet_pdf(promotion=promotion)
    (tmp_path / "leaflet.pdf").write_bytes(pdf)
    page = PdfReader(tmp_path / "leaflet.pdf").pages[0]
    assert (float(page.mediabox.width), float(page.mediabox.height)) == (612, 792)
    text = _text(pdf, tmp_path)
    assert "Civic days" in text and "2026 Honda Civic" in text and "$27,995.00" in text
    assert promotion.tracking_code in text and "www.maplemotors.example" in text
    assert f"mentionnez le code {promotion.tracking_code}" in text
    # Printed for a Québec store too: the offer and its dates in English and in French.
    text = " ".join(text.replace(NBSP, " ").split())
    assert "$27,995.00 — all fees included, plus taxes and licensing" in text
    assert "27 995,00 $ — tous frais inclus, taxes et immatriculation en sus" in text
    assert "From December 1, 2026 to January 5, 2027" in text
    assert "Du 1er décembre 2026 au 5 janvier 2027" in text
    assert _qr_codes(pdf, tmp_path) == [
        f"{settings.SITE_URL}/offers/civic-days/?src=leaflet-{promotion.tracking_code}"
    ]


def _lines(pdf: bytes, tmp_path) -> list[tuple[str, float, float, float]]:
    """Each line of text on the page: where it starts and ends across the page, and its baseline, in points."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    (tmp_path / "lines.pdf").write_bytes(pdf)
    lines = []

    def visit(text, _cm, tm, font, size):
        if text.strip():
            width = stringWidth(text.strip(), font["/BaseFont"].lstrip("/"), size)
            lines.append((text.strip(), tm[4], tm[4] + width, tm[5]))

    PdfReader(tmp_path / "lines.pdf").pages[0].extract_text(visitor_text=visit)
    return lines


def test_a_long_name_offer_and_description_stay_whole_on_the_leaflet_and_off_its_qr_code(tmp_path, settings):
    # Where fees may be added to the price, so that the longest terms are printed.
    settings.STORE = {**settings.STORE, "province": "NS"}
    name = "Spring clearance on every new and used SUV in stock"
    description = (
        "Get 0.9% financing on all new RAV4 models in stock, plus free winter tires with every "
        "purchase made before the end of the month, and a full tank of gas at delivery."
    )
    promotion = factories.promotion(
        name=name,
        offer_kind="price",
        advertised_price="41995",
        fees={
            "freight_pdi": {"amount": "2100", "included": False},
            "admin": {"amount": "499", "included": False},
        },
        offer_description=description,
    )
    lines = _lines(leaflet_pdf(promotion=promotion), tmp_path)
    margin = 0.75 * POINTS_PER_INCH
    assert all(left >= margin and right <= 612 - margin for _text, left, right, _y in lines), lines
    text = " ".join(text for text, *_place in lines)
    assert (
        name in text
        and description in text
        and "$41,995.00 — plus freight and PDI, administration fee, taxes and licensing" in text
        and "transport et préparation, frais d’administration, taxes et immatriculation en sus" in text
    )

    promotion.offer_description = "\n".join(f"Line {n} of the fine print." for n in range(1, 61))
    lines = _lines(leaflet_pdf(promotion=promotion), tmp_path)
    body = [(text, y) for text, _left, _right, y in lines if text.startswith("Line ")]
    assert body[0][0] == "Line 1 of the fine print." and body[-1][0].endswith("…")
    assert min(y for _text, y in body) >= 4.0 * POINTS_PER_INCH  # above the QR code and the website


def test_no_leaflet_is_printed_with_a_price_that_breaks_the_all_in_rule(settings):
    settings.STORE = {**settings.STORE, "province": "ON"}
    promotion = factories.promotion(
        offer_kind="price",
        advertised_price="34995",
        fees={"freight_pdi": {"amount": "2100", "included": False}},
    )
    with pytest.raises(PromotionError, match=r"Freight and PDI \(\$2,100.00\) must be included"):
        leaflet_pdf(promotion=promotion)


@pytest.mark.parametrize(
    ("channels", "path"), [(["print"], "/offers/flyer-days/"), (["radio_tv", "in_store"], "/offers/")]
)
def test_a_leaflet_s_qr_code_opens_a_page_whatever_the_promotion_s_channels(
    tmp_path, settings, channels, path
):
    promotion = factories.promotion(landing_slug="flyer-days", channels=channels)
    assert _qr_codes(leaflet_pdf(promotion=promotion), tmp_path) == [
        f"{settings.SITE_URL}{path}?src=leaflet-{promotion.tracking_code}"
    ]


def test_a_long_name_title_and_email_stay_whole_on_the_card_and_off_its_qr_code(tmp_path):
    member = factories.staff(
        "advisor",
        username="mbelanger",
        first_name="Marie-Ève-Geneviève",
        last_name="Bélanger-Desrosiers-Lapointe",
        email="marie-eve-genevieve.belanger-desrosiers@maplemotors.example",
        title="Conseillère principale aux ventes et au financement",
    )
    lines = _lines(business_card_pdf(member=member), tmp_path)
    # Points on the page: the trim line is 1/8 in (9 pt) inside it, the safe area another 9 pt.
    qr_left, qr_top, safe_right = 270 - 18 - 1.05 * POINTS_PER_INCH, 18 + 1.05 * POINTS_PER_INCH, 270 - 18
    assert all(left >= 18 and right <= safe_right for _text, left, right, _y in lines), lines
    assert all(right <= qr_left for _text, _left, right, y in lines if y < qr_top), lines
    text = " ".join(text for text, *_place in lines)
    assert "Marie-Ève-Geneviève Bélanger-Desrosiers-Lapointe" in text
    assert "Conseillère principale aux ventes et au financement" in text
    assert "marie-eve-genevieve.belanger-desrosiers @maplemotors.example" in text  # on two lines


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_card_reads_the_same_whoever_prints_it_its_department_in_both_languages(tmp_path, language):
    member = factories.staff("advisor", first_name="Luc", last_name="Bouchard")
    with translation.override(language):
        text = _text(business_card_pdf(member=member), tmp_path)
    assert "Luc Bouchard\nSales advisor / Conseiller aux ventes\nSales / Ventes\n" in text
