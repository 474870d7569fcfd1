"""Writes for vehicle photos: upload (original kept privately), processing into web sizes, order, deletion.

Every photo goes uploaded → processing → ready, or failed with a reason for the person who sent it.
"""

import hashlib
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from dealership.queueing import queue_on_commit
from dealership.storage import private_storage

from ..imaging import WEB_SIZES, ImageRejected, image_open_checked, web_images_render
from ..models import PhotoStatus, Vehicle, VehiclePhoto
from .vehicles import vehicle_event_add

logger = logging.getLogger(__name__)

PHOTO_TRANSITIONS: dict[str, set[str]] = {
    PhotoStatus.UPLOADED: {PhotoStatus.PROCESSING},
    PhotoStatus.PROCESSING: {PhotoStatus.READY, PhotoStatus.FAILED},
    # Processing again after a failure (e.g. a worker lost mid-way) is allowed; a ready photo is final.
    PhotoStatus.FAILED: {PhotoStatus.PROCESSING},
    PhotoStatus.READY: set(),
}
WEB_EXTENSIONS = ("webp", "jpg")


class PhotoError(ValueError):
    pass


@dataclass
class UploadResult:
    accepted: list[VehiclePhoto] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)


def _original_path(photo: VehiclePhoto) -> str:
    return f"inventory/originals/{photo.vehicle_id}/{photo.key}"


def _vehicle_photos_changed(vehicle: Vehicle) -> None:
    """What the website shows of the vehicle changed: its updated_at, which the feeds and the sitemap
    give listing sites and search engines, says so."""
    vehicle.updated_at = timezone.now()
    Vehicle.objects.filter(pk=vehicle.pk).update(updated_at=vehicle.updated_at)


def photo_transition(*, photo: VehiclePhoto, to_status: str, actor=None, reason: str = "") -> VehiclePhoto:
    if to_status not in PHOTO_TRANSITIONS[photo.status]:
        raise PhotoError(f"A photo that is {photo.status} cannot become {to_status}.")
    from_status = photo.status
    photo.status, photo.failure_reason = to_status, reason[:300]
    photo.save(update_fields=["status", "failure_reason", "sizes", "updated_at"])
    vehicle_event_add(
        vehicle=photo.vehicle,
        type="photo_status",
        actor=actor,
        photo=photo.pk,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
    )
    if to_status == PhotoStatus.READY:
        _vehicle_photos_changed(photo.vehicle)
    return photo


@transaction.atomic
def photos_upload(*, vehicle: Vehicle, files: list, actor=None, process_now: bool = False) -> UploadResult:
    """Keep each readable photo's original privately and queue it for processing; say why others are refused.

    Files are checked from their headers only here (type, dimensions, size), so the page answers at once.
    """
    limit = settings.INVENTORY_PHOTOS_PER_UPLOAD
    if len(files) > limit:
        raise PhotoError(
            ngettext(
                "You sent %(count)d photos; up to %(limit)d can be sent at once.",
                "You sent %(count)d photos; up to %(limit)d can be sent at once.",
                len(files),
            )
            % {"count": len(files), "limit": limit}
        )
    if not files:
        raise PhotoError(_("Choose at least one photo."))
    result = UploadResult()
    next_position = (vehicle.photos.aggregate(last=Max("position"))["last"] or 0) + 1
    # The photos already on the vehicle (a failed one may be sent again), by content.
    kept = dict(
        vehicle.photos.exclude(status=PhotoStatus.FAILED)
        .exclude(content_hash="")
        .values_list("content_hash", "original_name")
    )
    for upload in files:
        name = getattr(upload, "name", "") or "photo"
        if not upload.size:
            result.rejected.append((name, _("This file is empty: send the photo again.")))
            continue
        if upload.size > settings.INVENTORY_PHOTO_MAX_BYTES:
            result.rejected.append(
                (
                    name,
                    _("This file is larger than %(mb)d MB.")
                    % {"mb": settings.INVENTORY_PHOTO_MAX_BYTES >> 20},
                )
            )
            continue
        try:
            image_open_checked(upload)
        except ImageRejected as error:
            result.rejected.append((name, str(error)))
            continue
        upload.seek(0)
        content_hash = _sha256(upload)
        if content_hash in kept:
            result.rejected.append(
                (
                    name,
                    _("The same photo as %(name)s, already on this vehicle.") % {"name": kept[content_hash]},
                )
            )
            continue
        kept[content_hash] = name
        photo = VehiclePhoto.objects.create(
            vehicle=vehicle,
            key=uuid.uuid4().hex,
            position=next_position,
            original_name=name[:255],
            content_hash=content_hash,
            uploaded_by=actor,
        )
        next_position += 1
        private_storage().save(_original_path(photo), upload)
        result.accepted.append(photo)
    if result.accepted:
        vehicle_event_add(vehicle=vehicle, type="photos_uploaded", actor=actor, count=len(result.accepted))
    for photo in result.accepted:
        if process_now:
            photo_process(photo=photo)
        else:
            from ..tasks import photo_process_task

            # The broker down (Redis restarting) keeps the photo: photos_stuck_sweep queues it later.
            queue_on_commit(photo_process_task, photo.pk)
    return result


def _sha256(upload) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def photo_process(*, photo: VehiclePhoto) -> VehiclePhoto:
    """Make the web sizes of one photo. Running it again on a ready photo changes nothing."""
    with transaction.atomic():
        photo = VehiclePhoto.objects.select_for_update().select_related("vehicle").get(pk=photo.pk)
        if photo.status == PhotoStatus.READY:
            return photo
        if photo.status != PhotoStatus.PROCESSING:
            photo_transition(photo=photo, to_status=PhotoStatus.PROCESSING)
    try:
        with private_storage().open(_original_path(photo)) as original:
            rendered = web_images_render(original)
        for image in rendered:
            for extension, content in (("webp", image.webp), ("jpg", image.jpeg)):
                path = photo.web_path(image.name, extension)
                default_storage.delete(path)  # a re-run writes the same names, not renamed copies
                default_storage.save(path, ContentFile(content))
    except ImageRejected as error:
        return _photo_fail(photo, str(error))
    except FileNotFoundError:
        return _photo_fail(photo, _("The uploaded file is missing; send the photo again."))
    except Exception:
        # A full disk, the time limit, too little memory: the photo says so and can be sent again,
        # instead of showing "processing" for ever.
        logger.exception("Photo %s could not be prepared", photo.pk)
        return _photo_fail(photo, _(NOT_PREPARED))
    with transaction.atomic():
        current = (
            VehiclePhoto.objects.select_for_update().select_related("vehicle").filter(pk=photo.pk).first()
        )
        if current is None:  # deleted while it was being prepared: none of its files stay public
            transaction.on_commit(lambda: _web_files_delete(photo))
            return photo
        if current.status == PhotoStatus.READY:  # a second task for it (queued again) finished first
            return current
        current.sizes = {image.name: [image.width, image.height] for image in rendered}
        return photo_transition(photo=current, to_status=PhotoStatus.READY)


# Longer than a photo task may run (its time limit) and wait in a busy queue.
STUCK_AFTER = timedelta(minutes=15)
NOT_PREPARED = gettext_noop("This photo could not be prepared; send it again.")


def photos_stuck_sweep(*, now: datetime) -> dict[str, int]:
    """Photos left behind by a lost task: one never started (the broker restarted) is queued
    again; one that stopped mid-way (the worker was killed, out of memory) fails, saying so,
    rather than show "processing" for ever."""
    from ..tasks import photo_process_task

    stale = VehiclePhoto.objects.filter(updated_at__lt=now - STUCK_AFTER)
    queued = list(stale.filter(status=PhotoStatus.UPLOADED).values_list("pk", flat=True))
    for pk in queued:
        photo_process_task.delay_on_commit(pk)
    stopped = list(stale.filter(status=PhotoStatus.PROCESSING))
    for photo in stopped:
        _photo_fail(photo, _(NOT_PREPARED))
    return {"queued": len(queued), "failed": len(stopped)}


def _photo_fail(photo: VehiclePhoto, reason: str) -> VehiclePhoto:
    with transaction.atomic():
        current = (
            VehiclePhoto.objects.select_for_update().select_related("vehicle").filter(pk=photo.pk).first()
        )
        if current is None:  # deleted meanwhile: nothing to say it on
            return photo
        return photo_transition(photo=current, to_status=PhotoStatus.FAILED, reason=reason)


def _web_files_delete(photo: VehiclePhoto) -> None:
    for size in WEB_SIZES:
        for extension in WEB_EXTENSIONS:
            default_storage.delete(photo.web_path(size, extension))


@transaction.atomic
def photos_reorder(*, vehicle: Vehicle, photo_ids: list[int], actor=None) -> list[VehiclePhoto]:
    """Put the vehicle's photos in this order (the first is the main photo); photos not named keep
    their relative order after those named."""
    photos = {photo.pk: photo for photo in vehicle.photos.select_for_update()}
    if len(set(photo_ids)) != len(photo_ids) or not set(photo_ids) <= set(photos):
        raise PhotoError(_("The new order names photos that are not this vehicle's; reload the page."))
    ordered = [photos[pk] for pk in photo_ids] + [p for pk, p in photos.items() if pk not in photo_ids]
    ordered_before = sorted(photos.values(), key=lambda photo: (photo.position, photo.pk))
    if ordered == ordered_before:
        return ordered
    for position, photo in enumerate(ordered, start=1):
        photo.position = position
    VehiclePhoto.objects.bulk_update(ordered, ["position"])
    vehicle_event_add(vehicle=vehicle, type="photos_reordered", actor=actor, order=[p.pk for p in ordered])
    _vehicle_photos_changed(vehicle)
    return ordered


def photo_move(*, photo: VehiclePhoto, offset: int, actor=None) -> list[VehiclePhoto]:
    """Move a photo up (-1) or down (+1) in its vehicle's order."""
    ids = list(photo.vehicle.photos.values_list("pk", flat=True))
    index = ids.index(photo.pk)
    target = min(max(index + offset, 0), len(ids) - 1)
    ids.insert(target, ids.pop(index))
    return photos_reorder(vehicle=photo.vehicle, photo_ids=ids, actor=actor)


def photo_make_main(*, photo: VehiclePhoto, actor=None) -> list[VehiclePhoto]:
    return photos_reorder(vehicle=photo.vehicle, photo_ids=[photo.pk], actor=actor)


@transaction.atomic
def photo_delete(*, photo: VehiclePhoto, actor=None) -> None:
    original = _original_path(photo)
    vehicle_event_add(vehicle=photo.vehicle, type="photo_deleted", actor=actor, photo=photo.pk)
    photo.delete()
    _vehicle_photos_changed(photo.vehicle)

    def remove_files():
        _web_files_delete(photo)
        private_storage().delete(original)

    transaction.on_commit(remove_files)
