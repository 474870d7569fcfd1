import re
from pathlib import Path

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import Http404
from django.urls import include, path, re_path
from django.views.decorators.http import require_safe
from django.views.static import serve

from inventory.urls import public_urlpatterns as vehicle_public_urlpatterns
from leads.customer_views import unsubscribe

from . import views


@require_safe
def public_media(request, path: str):
    """Published photo sizes under MEDIA_ROOT, for the public pages, the feeds and mail, whatever
    DEBUG is (no other server is in front to serve them). `serve` answers conditional requests and
    refuses paths leading out of MEDIA_ROOT; nothing under PRIVATE_MEDIA_ROOT is ever served, even if
    it were set inside MEDIA_ROOT. A photo's files are never rewritten under the same name (a new
    photo has a new key), so browsers and the listing sites may keep them."""
    private = Path(settings.PRIVATE_MEDIA_ROOT).resolve()
    try:
        wanted = (Path(settings.MEDIA_ROOT) / path).resolve()
    except ValueError:  # a NUL in the path
        raise Http404 from None
    if wanted == private or private in wanted.parents:
        raise Http404
    response = serve(request, path, document_root=settings.MEDIA_ROOT)
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


store_patterns = [
    path("directory/", views.directory, name="directory"),
    path("directory/send/", views.directory_send_view, name="directory_send"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("objectives/", views.objective_list, name="objective_list"),
    path("objectives/new/", views.objective_create, name="objective_create"),
    path("objectives/<int:pk>/decide/", views.objective_decide, name="objective_decide"),
    path("objectives/<int:pk>/change/", views.objective_revise_view, name="objective_revise"),
    path("objectives/<int:pk>/withdraw/", views.objective_withdraw, name="objective_withdraw"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("store/", include((store_patterns, "dealership"))),
    path("leads/", include("leads.urls")),
    path("inventory/", include("inventory.urls")),
    path("vehicles/", include(vehicle_public_urlpatterns)),
    path("promotions/", include("promotions.urls")),
    path("offers/", include("promotions.public_urls")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),  # set_language: the menu's language switch
    path("u/<str:token>/", unsubscribe, name="unsubscribe"),
    re_path(rf"^{re.escape(settings.MEDIA_URL.lstrip('/'))}(?P<path>.+)$", public_media, name="media"),
]
