from django.conf import settings
from django.core.files.storage import default_storage
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from dealership.models import TimelineEvent


class Condition(models.TextChoices):
    NEW = "new", _("New")
    USED = "used", _("Used")


class VehicleStatus(models.TextChoices):
    ON_ORDER = "on_order", _("On order")
    IN_STOCK = "in_stock", _("In stock")
    ON_HOLD = "on_hold", _("On hold")
    SOLD = "sold", _("Sold")


class VehicleQuerySet(models.QuerySet):
    def with_public_page(self) -> "VehicleQuerySet":
        """The vehicles that have a page on the website: see Vehicle.has_public_page."""
        return self.filter(published=True).exclude(status=VehicleStatus.ON_ORDER)


class Vehicle(models.Model):
    """A vehicle of the store's stock, from order to sale."""

    vin = models.CharField(_("VIN"), max_length=17, unique=True)
    stock_number = models.CharField(_("stock number"), max_length=30, unique=True)
    condition = models.CharField(
        _("condition"), max_length=10, choices=Condition.choices, default=Condition.USED
    )
    year = models.PositiveSmallIntegerField(
        _("year"), null=True, blank=True, validators=[MinValueValidator(1900), MaxValueValidator(2100)]
    )
    make = models.CharField(_("make"), max_length=60, blank=True)
    model = models.CharField(_("model"), max_length=60, blank=True)
    trim = models.CharField(_("trim"), max_length=60, blank=True)
    body_style = models.CharField(_("body style"), max_length=40, blank=True)
    exterior_colour = models.CharField(_("exterior colour"), max_length=40, blank=True)
    interior_colour = models.CharField(_("interior colour"), max_length=40, blank=True)
    odometer_km = models.PositiveIntegerField(_("odometer (km)"), null=True, blank=True)
    price = models.DecimalField(_("price"), max_digits=10, decimal_places=2, null=True, blank=True)
    price_changed_at = models.DateTimeField(_("price changed"), null=True, blank=True)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(
        pgettext_lazy("vehicle", "status"),
        max_length=20,
        choices=VehicleStatus.choices,
        default=VehicleStatus.IN_STOCK,
    )
    in_stock_on = models.DateField(_("in stock since"), null=True, blank=True)
    sold_on = models.DateField(_("sold on"), null=True, blank=True)
    published = models.BooleanField(
        _("published"), default=True, help_text=_("Shown on the store's website while in stock.")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("last changed"), auto_now=True)

    objects = VehicleQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("stock vehicle")
        verbose_name_plural = _("stock vehicles")
        indexes = [
            models.Index(fields=["status", "published"]),
            models.Index(fields=["make", "model"]),
            models.Index(fields=["in_stock_on"]),
        ]

    def __str__(self):
        return self.title or self.stock_number

    def get_absolute_url(self) -> str:
        return reverse("vehicles:detail", kwargs={"pk": self.pk, "slug": self.slug})

    def photo_urls(self) -> list[str]:
        """Full addresses of the vehicle's ready photos (large JPEG), in order, for mail to customers.

        Read from `ready_photos` when the selector prefetched them (see vehicles_find)."""
        photos = getattr(self, "ready_photos", None)
        if photos is None:
            photos = self.photos.filter(status=PhotoStatus.READY)
        return [settings.SITE_URL + photo.url("large", "jpg") for photo in photos]

    @property
    def title(self) -> str:
        return " ".join(str(part) for part in (self.year, self.make, self.model, self.trim) if part)

    @property
    def slug(self) -> str:
        return slugify(self.title) or "vehicle"

    @property
    def days_in_stock(self) -> int | None:
        if self.in_stock_on is None:
            return None
        until = self.sold_on or timezone.localdate()
        return (until - self.in_stock_on).days

    @property
    def is_public(self) -> bool:
        return self.published and self.status == VehicleStatus.IN_STOCK

    @property
    def has_public_page(self) -> bool:
        """Published vehicles have a page from their arrival on; sold ones keep it (saying so) so old
        links don't break. VehicleQuerySet.with_public_page selects the same vehicles."""
        return self.published and self.status != VehicleStatus.ON_ORDER


class VehiclePriceChange(models.Model):
    vehicle = models.ForeignKey(
        Vehicle, on_delete=models.CASCADE, related_name="price_changes", verbose_name=_("stock vehicle")
    )
    old_price = models.DecimalField(_("old price"), max_digits=10, decimal_places=2, null=True, blank=True)
    new_price = models.DecimalField(_("new price"), max_digits=10, decimal_places=2, null=True, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        verbose_name=_("changed by"),
    )
    changed_at = models.DateTimeField(_("changed"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-changed_at", "-pk"]
        verbose_name = _("price change")
        verbose_name_plural = _("price changes")

    def __str__(self):
        return gettext("%(before)s → %(after)s on vehicle %(number)s") % {
            "before": self.old_price,
            "after": self.new_price,
            "number": self.vehicle_id,
        }


class VehicleEvent(TimelineEvent):
    """One entry of a vehicle's timeline: who did what, when, with its parameters."""

    vehicle = models.ForeignKey(
        Vehicle, on_delete=models.CASCADE, related_name="events", verbose_name=_("stock vehicle")
    )

    class Meta(TimelineEvent.Meta):
        indexes = [models.Index(fields=["type", "created_at"])]
        verbose_name = _("stock vehicle timeline entry")
        verbose_name_plural = _("stock vehicle timeline entries")

    def __str__(self):
        return gettext("%(event)s on vehicle %(number)s") % {"event": self.type, "number": self.vehicle_id}


class PhotoStatus(models.TextChoices):
    UPLOADED = "uploaded", pgettext_lazy("photo status", "Uploaded")
    PROCESSING = "processing", pgettext_lazy("photo status", "Processing")
    READY = "ready", pgettext_lazy("photo status", "Ready")
    FAILED = "failed", pgettext_lazy("photo status", "Failed")


class VehiclePhoto(models.Model):
    """A photo of a vehicle: the original kept privately, web sizes published once processed.

    The first photo in order is the vehicle's main photo.
    """

    vehicle = models.ForeignKey(
        Vehicle, on_delete=models.CASCADE, related_name="photos", verbose_name=_("stock vehicle")
    )
    key = models.CharField(_("key"), max_length=32, unique=True, help_text=_("Names the photo's files."))
    position = models.PositiveIntegerField(_("position"), default=0)
    status = models.CharField(
        _("status"), max_length=20, choices=PhotoStatus.choices, default=PhotoStatus.UPLOADED
    )
    failure_reason = models.CharField(_("why it failed"), max_length=300, blank=True)
    original_name = models.CharField(_("original file name"), max_length=255, blank=True)
    # The original's SHA-256: the same photo sent twice is put on the vehicle once.
    content_hash = models.CharField(_("content fingerprint"), max_length=64, blank=True)
    sizes = models.JSONField(
        _("web sizes"), default=dict, blank=True, help_text=_("Web size name → [width, height].")
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        verbose_name=_("uploaded by"),
    )
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    updated_at = models.DateTimeField(_("last changed"), auto_now=True)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("vehicle photo")
        verbose_name_plural = _("vehicle photos")
        indexes = [models.Index(fields=["vehicle", "status", "position"])]

    def __str__(self):
        return gettext("Photo %(number)s of vehicle %(vehicle)s") % {
            "number": self.pk,
            "vehicle": self.vehicle_id,
        }

    def web_path(self, size: str, extension: str) -> str:
        return f"inventory/{self.vehicle_id}/{self.key}-{size}.{extension}"

    def url(self, size: str = "large", extension: str = "webp") -> str:
        return default_storage.url(self.web_path(size, extension))

    @property
    def thumb_jpeg_url(self) -> str:
        return self.url("thumb", "jpg")

    @property
    def large_jpeg_url(self) -> str:
        return self.url("large", "jpg")

    @property
    def srcset_webp(self) -> str:
        return ", ".join(f"{self.url(name)} {width}w" for name, (width, _height) in self.sizes.items())

    @property
    def srcset_jpeg(self) -> str:
        return ", ".join(f"{self.url(name, 'jpg')} {width}w" for name, (width, _height) in self.sizes.items())
