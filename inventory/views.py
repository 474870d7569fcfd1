import copy
import csv

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, ngettext, pgettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST, require_safe

from dealership.access import staff_role_required
from dealership.client_address import client_address
from dealership.numbers import is_ascii_digits
from leads.services.public_forms import public_form_message_admit, public_form_refusal

from .feeds import (
    CSV_FEED_COLUMNS,
    feed_since,
    json_for_script,
    vehicle_csv_row,
    vehicle_feed_row,
    vehicle_structured_data,
)
from .forms import (
    PhotoOrderForm,
    PhotoUploadForm,
    VehicleCreateForm,
    VehicleForm,
    VehicleImportForm,
    VehicleInquiryForm,
    VehicleTransitionForm,
)
from .models import Condition, PhotoStatus, Vehicle, VehiclePhoto, VehicleStatus
from .selectors import (
    MAX_DAYS,
    freshness_report,
    vehicle_changes_since,
    vehicle_events,
    vehicle_feed,
    vehicle_list,
    vehicle_makes,
    vehicle_price_history,
    vehicle_public_get,
    vehicle_public_page_list,
    vehicle_ready_photos,
)
from .services.imports import import_file_keep, import_file_read, vehicles_import_csv
from .services.inquiries import vehicle_inquiry_create
from .services.photos import (
    PhotoError,
    photo_delete,
    photo_make_main,
    photo_move,
    photos_reorder,
    photos_upload,
)
from .services.vehicles import (
    DESCRIPTIVE_FIELDS,
    TransitionError,
    vehicle_create,
    vehicle_transition,
    vehicle_update,
)

PAGE_SIZE = 50
PUBLIC_PAGE_SIZE = 24


def _page(request, items, size: int):
    return Paginator(items, size).get_page(request.GET.get("page"))


def _filters_query(request) -> str:
    """The list's filters for its page links: without the page, nor the thanks for a message sent."""
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("sent", None)
    return query.urlencode()


# Staff pages -----------------------------------------------------------------------------------


@staff_role_required
def index(request):
    page = _page(request, vehicle_list(filters=request.GET), PAGE_SIZE)
    context = {"page": page, "filters": request.GET, "query": _filters_query(request)}
    if request.htmx:  # the filters changed: only the table is redrawn, the filter form stays
        return render(request, "inventory/vehicle_list.html#table", context)
    context |= {"makes": vehicle_makes(), "statuses": VehicleStatus.choices, "conditions": Condition.choices}
    return render(request, "inventory/vehicle_list.html", context)


@staff_role_required
def vehicle_create_view(request):
    form = VehicleCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            vehicle = vehicle_create(
                actor=request.user,
                vin=data["vin"],
                stock_number=data["stock_number"],
                price=data["price"],
                status=data["status"],
                published=data["published"],
                **{name: data[name] for name in DESCRIPTIVE_FIELDS if data[name] is not None},
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Vehicle added."))
            return redirect("inventory:vehicle_detail", pk=vehicle.pk)
    return render(request, "inventory/vehicle_form.html", {"form": form, "vehicle": None})


@staff_role_required
def vehicle_edit(request, pk: int):
    vehicle = get_object_or_404(Vehicle, pk=pk)
    # The form fills its instance with what was typed; the service compares with the vehicle as stored.
    form = VehicleForm(request.POST or None, instance=copy.copy(vehicle))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            vehicle = vehicle_update(
                vehicle=vehicle,
                actor=request.user,
                vin=data["vin"],
                stock_number=data["stock_number"],
                published=data["published"],
                price=data["price"],
                **{name: data[name] for name in DESCRIPTIVE_FIELDS},
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Vehicle saved."))
            return redirect("inventory:vehicle_detail", pk=vehicle.pk)
    return render(request, "inventory/vehicle_form.html", {"form": form, "vehicle": vehicle})


def _photos_context(vehicle: Vehicle, **extra) -> dict:
    photos = list(vehicle.photos.all())
    return {
        "vehicle": vehicle,
        "photos": photos,
        "photos_pending": any(p.status in (PhotoStatus.UPLOADED, PhotoStatus.PROCESSING) for p in photos),
        # The website's main photo: the first one ready, whatever comes before it.
        "main_photo": next((p for p in photos if p.status == PhotoStatus.READY), None),
        **extra,
    }


def _vehicle_page(vehicle: Vehicle, *, transition_form: VehicleTransitionForm | None = None) -> dict:
    """The staff vehicle page's context; `transition_form`: a status change refused, back with the
    date typed."""
    return _photos_context(
        vehicle,
        page_address=reverse("inventory:vehicle_detail", args=[vehicle.pk]),
        upload_form=PhotoUploadForm(),
        transition_form=transition_form or VehicleTransitionForm(vehicle=vehicle),
        price_history=vehicle_price_history(vehicle=vehicle),
        events=vehicle_events(vehicle=vehicle)[:50],
    )


@staff_role_required
def vehicle_detail(request, pk: int):
    vehicle = get_object_or_404(Vehicle, pk=pk)
    return render(request, "inventory/vehicle_detail.html", _vehicle_page(vehicle))


@staff_role_required
@require_POST
def vehicle_transition_view(request, pk: int):
    vehicle = get_object_or_404(Vehicle, pk=pk)
    form = VehicleTransitionForm(request.POST, vehicle=vehicle)
    if form.is_valid():
        try:
            vehicle_transition(
                vehicle=vehicle,
                to_status=form.cleaned_data["status"],
                actor=request.user,
                on=form.cleaned_data["on"],
            )
        except TransitionError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, pgettext("vehicle", "Status changed."))
            return redirect("inventory:vehicle_detail", pk=vehicle.pk)
    if form.data.get("on", "").strip():
        # Nothing is lost: the page comes back with the date typed and the reasons beside it.
        return render(
            request, "inventory/vehicle_detail.html", _vehicle_page(vehicle, transition_form=form), status=400
        )
    # Only a status was chosen: what was refused is said above the page.
    messages.error(request, " ".join(error for errors in form.errors.values() for error in errors))
    return redirect("inventory:vehicle_detail", pk=vehicle.pk)


def _is_script_request(request) -> bool:
    """Requests from the page's own JS or htmx get the photo grid back instead of a redirect."""
    return bool(request.htmx) or request.headers.get("X-Requested-With") == "XMLHttpRequest"


def _photos_received(upload_result) -> str:
    count = len(getattr(upload_result, "accepted", []))
    if not count:
        return ""
    return ngettext(
        "%(count)d photo received; it appears as soon as it is ready.",
        "%(count)d photos received; they appear as soon as they are ready.",
        count,
    ) % {"count": count}


def _photos_answer(request, vehicle: Vehicle, *, status: int = 200, **extra):
    received = _photos_received(extra.get("upload_result"))
    if _is_script_request(request):
        return render(
            request,
            "inventory/vehicle_detail.html#photos",
            _photos_context(vehicle, received=received, **extra),
            status=status,
        )
    for name, reason in getattr(extra.get("upload_result"), "rejected", []):
        messages.error(request, f"{name}: {reason}")
    if extra.get("error"):
        messages.error(request, extra["error"])
    if received:
        messages.success(request, received)
    return redirect("inventory:vehicle_detail", pk=vehicle.pk)


@staff_role_required
@require_POST
def photos_upload_view(request, pk: int):
    vehicle = get_object_or_404(Vehicle, pk=pk)
    form = PhotoUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _photos_answer(request, vehicle, status=400, error=_("Choose at least one photo."))
    try:
        result = photos_upload(vehicle=vehicle, files=form.cleaned_data["photos"], actor=request.user)
    except PhotoError as error:
        return _photos_answer(request, vehicle, status=400, error=str(error))
    return _photos_answer(request, vehicle, status=200 if result.accepted else 400, upload_result=result)


@staff_role_required
@require_GET
def photos_grid(request, pk: int):
    vehicle = get_object_or_404(Vehicle, pk=pk)
    return render(request, "inventory/vehicle_detail.html#photos", _photos_context(vehicle))


@staff_role_required
@require_POST
def photos_order_view(request, pk: int):
    vehicle = get_object_or_404(Vehicle, pk=pk)
    form = PhotoOrderForm(request.POST)
    if not form.is_valid():
        return _photos_answer(
            request, vehicle, status=400, error=_("The new order could not be read; reload the page.")
        )
    try:
        photos_reorder(vehicle=vehicle, photo_ids=form.cleaned_data["order"], actor=request.user)
    except PhotoError as error:
        return _photos_answer(request, vehicle, status=400, error=str(error))
    return _photos_answer(request, vehicle)


@staff_role_required
@require_POST
def photo_move_view(request, pk: int):
    photo = get_object_or_404(VehiclePhoto.objects.select_related("vehicle"), pk=pk)
    photo_move(photo=photo, offset=-1 if request.POST.get("direction") == "up" else 1, actor=request.user)
    return _photos_answer(request, photo.vehicle)


@staff_role_required
@require_POST
def photo_main_view(request, pk: int):
    photo = get_object_or_404(VehiclePhoto.objects.select_related("vehicle"), pk=pk)
    photo_make_main(photo=photo, actor=request.user)
    return _photos_answer(request, photo.vehicle)


@staff_role_required
@require_POST
def photo_delete_view(request, pk: int):
    photo = get_object_or_404(VehiclePhoto.objects.select_related("vehicle"), pk=pk)
    vehicle = photo.vehicle
    photo_delete(photo=photo, actor=request.user)
    return _photos_answer(request, vehicle)


@staff_role_required
def vehicle_import_view(request):
    """Upload shows a dry-run preview; the import itself is a second, explicit step."""
    form = VehicleImportForm(request.POST or None, request.FILES or None)
    context = {"form": form}
    if request.method == "POST" and form.is_valid():
        content = form.cleaned_data["file"].read()
        context["report"] = vehicles_import_csv(content=content, actor=request.user, dry_run=True)
        if not context["report"].errors:
            context["token"] = import_file_keep(content=content)
    return render(request, "inventory/vehicle_import.html", context)


@staff_role_required
@require_POST
def vehicle_import_confirm(request):
    try:
        content = import_file_read(token=request.POST.get("token", ""))
    except FileNotFoundError:
        messages.error(request, _("That preview is no longer available; upload the file again."))
        return redirect("inventory:import")
    report = vehicles_import_csv(content=content, actor=request.user, dry_run=False)
    return render(request, "inventory/vehicle_import.html", {"form": VehicleImportForm(), "report": report})


@staff_role_required
def freshness_view(request):
    def number(name, default):
        value = request.GET.get(name, "")
        return min(int(value), MAX_DAYS) if is_ascii_digits(value) else default

    report = freshness_report(min_photos=number("min_photos", 6), price_days=number("price_days", 30))
    return render(request, "inventory/freshness.html", {"report": report})


# The public website --------------------------------------------------------------------------


def public_list(request):
    page = _page(request, vehicle_public_page_list(filters=request.GET), PUBLIC_PAGE_SIZE)
    return render(
        request,
        "inventory/public_list.html",
        {
            "page": page,
            "filters": request.GET,
            "query": _filters_query(request),
            "sent": request.GET.get("sent") == "1",
            "makes": vehicle_makes(public=True),
            "conditions": Condition.choices,
        },
    )


def public_detail(request, pk: int, slug: str):
    # A vehicle kept off the website has no page, as a number that is no vehicle. A message sent
    # from its page, opened before it was taken off, is still taken (vehicle_inquiry_create), and
    # answered as one to a number that is no vehicle: nobody learns of that vehicle, nor that it exists.
    try:
        vehicle = vehicle_public_get(pk=pk)
    except Vehicle.DoesNotExist:
        if request.method != "POST":
            raise Http404(_("This vehicle is not on our website.")) from None
        vehicle = None
    # An old address of a vehicle since renamed moves to the new one; a message sent from a page
    # opened before is still taken (a redirect would drop what the visitor wrote).
    if vehicle is not None and request.method != "POST" and slug != vehicle.slug:
        return redirect(vehicle, permanent=True)
    form = VehicleInquiryForm(request.POST or None)
    status = 400 if form.is_bound else 200
    if request.method == "POST" and form.is_valid():
        if public_form_message_admit(address=client_address(request)):
            data = form.cleaned_data
            vehicle_inquiry_create(
                vehicle_number=pk,
                vehicle=vehicle,
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                phone=data["phone"],
                inquiry_type=data["inquiry_type"],
                message=data["message"],
                language=get_language()[:2],  # the page's language: follow-up mail is written in it
            )
            if vehicle is None:
                return redirect(f"{reverse('vehicles:list')}?sent=1")
            return redirect(f"{vehicle.get_absolute_url()}?sent=1#contact")
        form.add_error(None, public_form_refusal())  # what was typed stays, to send later
        status = 429
    if vehicle is None:
        return render(request, "inventory/public_detail_gone.html", {"form": form}, status=status)
    photos = list(vehicle_ready_photos(vehicle=vehicle))
    return render(
        request,
        "inventory/public_detail.html",
        {
            "vehicle": vehicle,
            "photos": photos,
            "form": form,
            "sent": request.GET.get("sent") == "1",
            "structured_data": json_for_script(
                vehicle_structured_data(vehicle, photos, absolute=request.build_absolute_uri)
            ),
        },
        status=status,
    )


@require_safe
def feed_json(request):
    try:
        since = feed_since(request.GET.get("since", ""))
    except ValueError:
        return JsonResponse(
            {"error": "since must be an ISO 8601 date and time, e.g. 2026-11-30T09:00:00Z"}, status=400
        )
    generated_at = timezone.now().isoformat()
    absolute = request.build_absolute_uri
    if since is None:
        vehicles = [vehicle_feed_row(vehicle, absolute=absolute) for vehicle in vehicle_feed()]
        return JsonResponse({"generated_at": generated_at, "count": len(vehicles), "vehicles": vehicles})
    changes = [
        {
            "change": item.change,
            "at": item.at.isoformat(),
            "stock_number": item.vehicle.stock_number,
            "vin": item.vehicle.vin,
            "vehicle": vehicle_feed_row(item.vehicle, absolute=absolute) if item.vehicle.is_public else None,
        }
        for item in vehicle_changes_since(since=since)
    ]
    return JsonResponse({"generated_at": generated_at, "since": since.isoformat(), "changes": changes})


@require_safe
def feed_csv(request):
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="vehicles.csv"'
    writer = csv.writer(response)
    writer.writerow(CSV_FEED_COLUMNS)
    for vehicle in vehicle_feed():
        writer.writerow(vehicle_csv_row(vehicle, absolute=request.build_absolute_uri))
    return response
