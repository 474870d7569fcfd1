from django.conf import settings


def store(request):
    """The store's identity and the signed-in person's role, for every page."""
    staff = getattr(request.user, "staff", None) if request.user.is_authenticated else None
    return {"store": settings.STORE, "staff_member": staff}
