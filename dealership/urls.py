from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from inventory.urls import public_urlpatterns as vehicle_public_urlpatterns
from leads.customer_views import unsubscribe

from . import views

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
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
