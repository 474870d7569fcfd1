"""The public pages under /offers/: no login, each visit and lead carrying its source code."""

from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import translation

from dealership.client_address import client_address
from dealership.text import in_both_languages
from leads.services.public_forms import public_form_message_admit, public_form_refusal

from .forms import PublicContactForm
from .models import Promotion
from .pricing import offer_lines
from .selectors import (
    promotion_ended_get,
    promotion_for_src,
    promotion_running_get,
    promotion_stock,
    promotions_running_internet,
)
from .services.promotions import public_lead_submit, source_visit_record


def _src(request) -> str:
    # Anyone can edit the address: a NUL character is refused by PostgreSQL, so it never gets that far.
    return (request.GET.get("src") or request.POST.get("src") or "").replace("\x00", "").strip()[:80]


def _too_many_messages() -> str:
    """The refusal of a message beyond the public forms' limits, as these bilingual pages say it."""
    said = {}
    for language in ("en", "fr"):
        with translation.override(language):
            said[language] = public_form_refusal()
    return in_both_languages(said["en"], said["fr"])


def _contact(
    request,
    *,
    promotion: Promotion | None,
    template: str,
    context: dict,
    status: int = 200,
    brought_by: Promotion | None = None,
):
    """`promotion`: the offer whose page this is; on the general offers page, `brought_by`: the
    promotion whose leaflet or old link brought the visitor, credited with the visit and the lead."""
    src = _src(request)
    form = PublicContactForm(request.POST or None, promotion=promotion, stock=context.get("stock", ()))
    if request.method == "POST" and form.is_valid():
        if public_form_message_admit(address=client_address(request)):
            public_lead_submit(
                promotion=promotion,
                first_name=form.cleaned_data["first_name"],
                last_name=form.cleaned_data["last_name"],
                email=form.cleaned_data["email"],
                phone=form.cleaned_data["phone"],
                language=form.cleaned_data["language"],
                comments=form.cleaned_data["comments"],
                vehicle=form.vehicle_dict(),
                src=src,
                brought_by=brought_by,
            )
            return redirect("offers:thanks")
        form.add_error(None, _too_many_messages())  # what was typed stays, to send later
        status = 429
    if request.method == "GET":
        source_visit_record(src=src, promotion=promotion or brought_by)
    return render(
        request, template, {"form": form, "src": src, "promotion": promotion, **context}, status=status
    )


def offers_index(request, *, ended: Promotion | None = None):
    """The offers on now and a contact form; `ended`: the finished offer a visitor's link was for."""
    return _contact(
        request,
        promotion=None,
        brought_by=ended or promotion_for_src(_src(request)),
        template="promotions/public/offers_index.html",
        context={"promotions": promotions_running_internet(), "ended": ended},
        status=410 if ended else 200,
    )


def landing(request, slug: str):
    try:
        promotion = promotion_running_get(slug=slug)
    except Promotion.DoesNotExist:
        # An old leaflet's QR code or an old ad: say the offer ended and show what is on now.
        try:
            return offers_index(request, ended=promotion_ended_get(slug=slug))
        except Promotion.DoesNotExist:
            raise Http404("This offer is not running.") from None
    return _contact(
        request,
        promotion=promotion,
        template="promotions/public/landing.html",
        context={
            "offer": " / ".join(
                offer_lines(
                    offer_kind=promotion.offer_kind,
                    advertised_price=promotion.advertised_price,
                    rate=promotion.rate,
                    fees=promotion.fees,
                )
            ),
            "stock": promotion_stock(promotion=promotion),
        },
    )


def thanks(request):
    return render(request, "promotions/public/thanks.html")
