"""Test settings: the same as production-shaped base, with fast hashing and isolated folders."""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("VAR_DIR", tempfile.mkdtemp(prefix="dealership-test-"))

from .base import *  # noqa: E402,F403
from .base import MAILERS, VAR_DIR  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MAILERS["default"] = {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
MEDIA_ROOT = Path(VAR_DIR) / "media"
CELERY_BROKER_URL = "memory://"
CELERY_TASK_ALWAYS_EAGER = False
AXES_ENABLED = True
