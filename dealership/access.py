"""Who may open the staff pages of the stock and of promotions: anyone with a role at the store.

An account taken off the staff (dealership.services.staff_remove) may still sign in; it no longer
changes prices, statuses, photos or promotions.
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from .models import oversees_store

NO_STAFF_ROLE = _("Your account has no staff role at this store. Ask a manager to set one up for you.")


def has_staff_role(user) -> bool:
    return oversees_store(user) or getattr(user, "staff", None) is not None


def staff_role_required(view):
    """Signed in, with a staff role; anyone else gets the 403 page saying why."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not has_staff_role(request.user):
            raise PermissionDenied(NO_STAFF_ROLE)
        return view(request, *args, **kwargs)

    return wrapper
