"""Where files the web server must never serve are kept: photo originals, imports, customers' mail
attachments. They are read only through views that check who asks."""

from django.conf import settings
from django.core.files.storage import FileSystemStorage


def private_storage() -> FileSystemStorage:
    """PRIVATE_MEDIA_ROOT, outside MEDIA_ROOT, with no URL."""
    return FileSystemStorage(location=settings.PRIVATE_MEDIA_ROOT, base_url=None)
