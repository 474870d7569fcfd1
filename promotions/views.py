from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_POST

from dealership.access import staff_role_required
from dealership.forms import day_param
from dealership.models import StaffMember
from dealership.selectors import staff_directory
from leads.selectors.customers import can_use_customers

from .forms import CampaignForm, InfoShareForm, PromotionForm, PromotionTransitionForm
from .links import landing_url
from .models import Campaign, Promotion, PromotionStatus
from .selectors import (
    campaign_recipients,
    campaign_report,
    campaign_waiting,
    info_shares_recent,
    promotion_calendar,
    promotion_list,
    promotion_results,
)
from .services.campaigns import campaign_create, campaign_pause, campaign_resume, campaign_start
from .services.printing import business_card_pdf, card_url, leaflet_pdf, leaflet_url
from .services.promotions import (
    PromotionError,
    promotion_create,
    promotion_price_problems,
    promotion_transition,
    promotion_update,
)
from .services.sharing import info_share_create


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@staff_role_required
def index(request):
    return render(
        request,
        "promotions/promotion_list.html",
        {"promotions": promotion_list(filters=request.GET), "statuses": PromotionStatus.choices},
    )


@staff_role_required
def promotion_new(request):
    form = PromotionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        promotion = promotion_create(actor=request.user, **form.service_fields())
        messages.success(
            request, _("Promotion created with tracking code %(code)s.") % {"code": promotion.tracking_code}
        )
        return redirect("promotions:detail", pk=promotion.pk)
    return render(request, "promotions/promotion_form.html", {"form": form})


@staff_role_required
def promotion_edit(request, pk: int):
    promotion = get_object_or_404(Promotion, pk=pk)
    form = PromotionForm(request.POST or None, instance=promotion)
    if request.method == "POST" and form.is_valid():
        try:
            promotion_update(promotion=promotion, actor=request.user, **form.service_fields())
        except (PromotionError, ValidationError) as error:
            form.add_error(None, error.messages if isinstance(error, ValidationError) else str(error))
        else:
            messages.success(request, _("Promotion saved."))
            return redirect("promotions:detail", pk=promotion.pk)
    return render(request, "promotions/promotion_form.html", {"form": form, "promotion": promotion})


@staff_role_required
def promotion_detail(request, pk: int):
    promotion = get_object_or_404(Promotion.objects.select_related("department"), pk=pk)
    return render(
        request,
        "promotions/promotion_detail.html",
        {
            "promotion": promotion,
            "price_problems": promotion_price_problems(promotion),
            "transition_form": PromotionTransitionForm(promotion=promotion),
            "leaflet_url": leaflet_url(promotion),
            "promotion_public_url": landing_url(promotion),
            **promotion_results(promotion=promotion, user=request.user),
        },
    )


@staff_role_required
@require_POST
def promotion_transition_view(request, pk: int):
    promotion = get_object_or_404(Promotion, pk=pk)
    form = PromotionTransitionForm(request.POST, promotion=promotion)
    if not form.is_valid():
        messages.error(request, _("Choose a status the promotion may move to."))
    else:
        try:
            promotion_transition(
                promotion=promotion, to_status=form.cleaned_data["status"], actor=request.user
            )
            messages.success(request, pgettext("promotion", "Status changed."))
        except PromotionError as error:
            messages.error(request, str(error))
    return redirect("promotions:detail", pk=promotion.pk)


@staff_role_required
def promotion_leaflet(request, pk: int):
    promotion = get_object_or_404(Promotion, pk=pk)
    try:
        pdf = leaflet_pdf(promotion=promotion)
    except PromotionError as error:
        messages.error(request, str(error))
        return redirect("promotions:detail", pk=promotion.pk)
    return _pdf(pdf, f"leaflet-{promotion.landing_slug}.pdf")


@staff_role_required
def calendar(request):
    today = timezone.localdate()
    anchor = day_param(request, today, name="date")
    grid = promotion_calendar(view=request.GET.get("view", "month"), anchor=anchor, today=today)
    return render(request, "promotions/promotion_calendar.html", {"calendar": grid, "today": today})


@staff_role_required
def campaign_new(request, pk: int):
    promotion = get_object_or_404(Promotion, pk=pk)
    form = CampaignForm(request.POST or None, instance=Campaign(promotion=promotion))
    if request.method == "POST" and form.is_valid():
        campaign = campaign_create(promotion=promotion, actor=request.user, **form.service_fields())
        messages.success(request, _("Campaign saved as a draft; check the audience, then start it."))
        return redirect("promotions:campaign_detail", pk=campaign.pk)
    return render(request, "promotions/campaign_form.html", {"form": form, "promotion": promotion})


@staff_role_required
def campaign_detail(request, pk: int):
    campaign = get_object_or_404(Campaign.objects.select_related("promotion"), pk=pk)
    return render(
        request,
        "promotions/campaign_detail.html",
        {
            "campaign": campaign,
            "report": campaign_report(campaign=campaign),
            # Customers' names and addresses, for those who may open customer records.
            "recipients": campaign_recipients(campaign=campaign)[:500]
            if can_use_customers(request.user)
            else None,
        },
    )


@staff_role_required
@require_POST
@permission_required("promotions.send_campaign", raise_exception=True)
def campaign_pause_view(request, pk: int):
    campaign = get_object_or_404(Campaign.objects.select_related("promotion"), pk=pk)
    resuming = request.POST.get("action") == "resume"
    try:
        if resuming:
            campaign_resume(campaign=campaign, actor=request.user)
        else:
            campaign_pause(campaign=campaign, actor=request.user)
    except PromotionError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("Sending again, at the steady rate.")
            if resuming
            else _("Paused: no more mail leaves until you resume."),
        )
    return redirect("promotions:campaign_detail", pk=campaign.pk)


@staff_role_required
@require_POST
@permission_required("promotions.send_campaign", raise_exception=True)
def campaign_start_view(request, pk: int):
    campaign = get_object_or_404(Campaign.objects.select_related("promotion"), pk=pk)
    try:
        counts = campaign_start(campaign=campaign, actor=request.user)
    except PromotionError as error:
        messages.error(request, str(error))
    else:
        if campaign_waiting(campaign=campaign):
            started = _(
                "%(queued)s customer(s) will get it on %(day)s, once the promotion runs; %(skipped)s skipped (see why below)."
            )
        else:
            started = _("Sending to %(queued)s customer(s); %(skipped)s skipped (see why below).")
        messages.success(
            request,
            started
            % {
                "queued": counts["queued"],
                "skipped": counts["skipped"],
                "day": formats.date_format(campaign.send_on, "DATE_FORMAT"),
            },
        )
    return redirect("promotions:campaign_detail", pk=campaign.pk)


@staff_role_required
def print_materials(request):
    staff = staff_directory()
    return render(
        request,
        "promotions/print_materials.html",
        {
            "cards": [(member, card_url(member)) for member in staff],
            "leaflets": [(promotion, promotion_price_problems(promotion)) for promotion in promotion_list()],
        },
    )


@staff_role_required
def business_card(request, pk: int):
    member = get_object_or_404(StaffMember.objects.select_related("user", "department"), pk=pk)
    return _pdf(business_card_pdf(member=member), f"card-{member.user.get_username()}.pdf")


@staff_role_required
def infoshare_list(request):
    return render(request, "promotions/infoshare_list.html", {"shares": info_shares_recent()})


@staff_role_required
def infoshare_new(request):
    form = InfoShareForm(request.POST or None, initial={"link": request.GET.get("link", "")})
    if request.method == "POST" and form.is_valid():
        info_share_create(sent_by=request.user, **form.cleaned_data)
        messages.success(request, _("Sent. The list below shows who it went to."))
        return redirect("promotions:infoshare_list")
    return render(request, "promotions/infoshare_form.html", {"form": form})
