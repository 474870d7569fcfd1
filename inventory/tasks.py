from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from .models import VehiclePhoto
from .services.photos import photo_process, photos_stuck_sweep


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    time_limit=180,
    soft_time_limit=150,
    serializer="json",
)
def photo_process_task(photo_id: int) -> str:
    """Make the web sizes of one uploaded photo. A deleted photo or a ready one is left alone."""
    photo = VehiclePhoto.objects.filter(pk=photo_id).first()
    if photo is None:
        return "deleted"
    return photo_process(photo=photo).status


@shared_task(acks_late=True, time_limit=120, soft_time_limit=100, serializer="json")
def photos_stuck_sweep_task() -> dict:
    """Queue again the photos whose task was lost; fail, saying so, those stopped mid-way."""
    return photos_stuck_sweep(now=timezone.now())
