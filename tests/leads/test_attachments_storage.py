"""Customers' files sent by mail (pay stubs, licences, trade-in photos) are never public: they are kept
outside the media folder and reached only through the download view, which checks the lead."""

import importlib
from pathlib import Path
from types import ModuleType

import pytest
from django.apps import apps
from django.conf.urls.static import static
from django.urls import reverse

import dealership.urls
from dealership.models import Role
from leads.models import Attachment, Lead
from tests import factories

pytestmark = pytest.mark.django_db

PAY_STUB = b"%PDF-1.4 pay stub of Pat Buyer"

make_private = importlib.import_module(
    "leads.migrations.0016_attachments_private_storage"
).attachment_files_make_private


def mailed_attachment(filename: str = "invoice.pdf") -> Attachment:
    raw = factories.raw_mail(attachments=[(filename, "application/pdf", PAY_STUB)])
    inbound = factories.inbound_mail(raw)
    [attachment] = inbound.conversation_message.attachments.all()
    return attachment


def under(path, root) -> bool:
    return Path(path).resolve().is_relative_to(Path(root).resolve())


@pytest.fixture
def media_served(settings):
    """The site as `make run` serves it, DEBUG on: dealership/urls.py then serves MEDIA_ROOT under
    MEDIA_URL to anyone."""
    settings.DEBUG = True
    urlconf = ModuleType("media_served_urls")
    urlconf.urlpatterns = [
        *dealership.urls.urlpatterns,
        *static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT),
    ]
    settings.ROOT_URLCONF = urlconf


def test_a_mailed_attachment_is_kept_outside_the_media_folder(settings):
    attachment = mailed_attachment()
    assert attachment.filename == "invoice.pdf"
    assert under(attachment.file.path, settings.PRIVATE_MEDIA_ROOT)
    assert not under(attachment.file.path, settings.MEDIA_ROOT)
    # Its name on disk cannot be guessed from the sender's filename.
    assert "invoice" not in attachment.file.name
    assert not list(Path(settings.MEDIA_ROOT).rglob("invoice*"))
    attachment.file.open("rb")
    with attachment.file:
        assert attachment.file.read() == PAY_STUB


def test_a_mailed_attachment_is_not_served_from_the_media_url(client, settings, media_served):
    attachment = mailed_attachment()
    month = attachment.file.name.split("/")[1:3]
    for path in (attachment.file.name, "/".join(["attachments", *month, "invoice.pdf"])):
        response = client.get(f"{settings.MEDIA_URL}{path}")
        assert response.status_code == 404, path
    # The route itself is there: a file put in the media folder is served.
    check = Path(settings.MEDIA_ROOT) / f"public-check-{attachment.pk}.txt"
    check.parent.mkdir(parents=True, exist_ok=True)
    check.write_bytes(b"public")
    try:
        assert client.get(f"{settings.MEDIA_URL}{check.name}").status_code == 200
    finally:
        check.unlink()


def test_the_download_view_serves_a_mailed_attachment_only_to_who_may_see_the_lead(client):
    attachment = mailed_attachment()
    owner = factories.staff(Role.ADVISOR).user
    Lead.objects.filter(pk=attachment.message.lead_id).update(owner=owner)
    url = reverse("leads:attachment_download", args=[attachment.pk])

    assert client.get(url).status_code == 302  # sign in first
    for refused in (
        factories.staff(Role.ADVISOR),
        factories.staff(Role.DEPARTMENT, department_code="service"),
    ):
        client.force_login(refused.user)
        assert client.get(url).status_code == 404
    for allowed in (owner, factories.staff(Role.SUPERVISOR).user):
        client.force_login(allowed)
        response = client.get(url)
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == PAY_STUB
        assert 'attachment; filename="invoice.pdf"' in response["Content-Disposition"]


def stored_publicly(settings, name: str, data: bytes | None) -> Attachment:
    """An attachment as installs before this change kept it: its file in the media folder."""
    attachment = mailed_attachment()
    attachment.file.delete(save=False)
    Attachment.objects.filter(pk=attachment.pk).update(file=name)
    if data is not None:
        public = Path(settings.MEDIA_ROOT) / name
        public.parent.mkdir(parents=True, exist_ok=True)
        public.write_bytes(data)
    return Attachment.objects.get(pk=attachment.pk)


def test_existing_attachments_are_moved_out_of_the_media_folder(settings):
    moved = stored_publicly(settings, "attachments/2026/11/licence.jpg", b"licence")
    lost = stored_publicly(settings, "attachments/2026/11/lost.pdf", None)
    taken = stored_publicly(settings, "attachments/2026/11/stub.pdf", b"stub of this customer")
    other = Path(settings.PRIVATE_MEDIA_ROOT) / "attachments/2026/11/stub.pdf"
    other.parent.mkdir(parents=True, exist_ok=True)
    other.write_bytes(b"another file")

    make_private(apps, None)
    make_private(apps, None)  # run again: nothing moves, nothing fails

    public = Path(settings.MEDIA_ROOT) / "attachments"
    assert not [path for path in public.rglob("*") if path.is_file()]
    moved.refresh_from_db()
    assert moved.file.name == "attachments/2026/11/licence.jpg"
    assert under(moved.file.path, settings.PRIVATE_MEDIA_ROOT)
    with moved.file.open("rb"):
        assert moved.file.read() == b"licence"
    lost.refresh_from_db()
    assert lost.file.name == "attachments/2026/11/lost.pdf"
    # A different file already under that private name is kept; the attachment gets a free name.
    taken.refresh_from_db()
    assert taken.file.name != "attachments/2026/11/stub.pdf"
    with taken.file.open("rb"):
        assert taken.file.read() == b"stub of this customer"
    assert other.read_bytes() == b"another file"


def test_an_attachment_already_copied_privately_loses_only_its_public_copy(settings):
    attachment = stored_publicly(settings, "attachments/2026/10/photo.jpg", b"trade-in photo")
    private = Path(settings.PRIVATE_MEDIA_ROOT) / "attachments/2026/10/photo.jpg"
    private.parent.mkdir(parents=True, exist_ok=True)
    private.write_bytes(b"trade-in photo")

    make_private(apps, None)

    assert not (Path(settings.MEDIA_ROOT) / "attachments/2026/10/photo.jpg").exists()
    attachment.refresh_from_db()
    assert attachment.file.name == "attachments/2026/10/photo.jpg"
    assert private.read_bytes() == b"trade-in photo"


def test_an_attachment_too_large_to_keep_is_named_on_the_lead_and_left_in_the_original(
    supervisor_client, settings
):
    settings.MAIL_ATTACHMENT_MAX_BYTES = 1_000_000
    raw = factories.raw_mail(
        subject="Échange pour le RAV4 2024",
        body="Je voudrais échanger mon Civic contre le RAV4 2024. Voici une vidéo et une photo du Civic.",
        attachments=[
            ("IMG_2231.MOV", "video/quicktime", b"\x00" * 2_000_000),
            ("photo.jpg", "image/jpeg", b"\xff\xd8 photo"),
        ],
    )
    inbound = factories.inbound_mail(raw)
    video, photo = inbound.conversation_message.attachments.order_by("pk")
    assert (video.filename, video.content_type, video.size, video.kept) == (
        "IMG_2231.MOV", "video/quicktime", 2_000_000, False,
    )  # fmt: skip
    assert photo.kept and photo.file.read() == b"\xff\xd8 photo"
    page = supervisor_client.get(reverse("leads:lead_detail", args=[inbound.lead_id])).content.decode()
    assert (
        "📎 IMG_2231.MOV (video/quicktime, 1.9\xa0MB): too large to keep here, it is in the original message"
        in page
    )
    assert supervisor_client.get(reverse("leads:attachment_download", args=[video.pk])).status_code == 404
