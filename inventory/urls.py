from django.contrib.sitemaps.views import sitemap
from django.urls import path

from . import views
from .sitemaps import PublishedVehicleSitemap

app_name = "inventory"

urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.vehicle_create_view, name="vehicle_create"),
    path("import/", views.vehicle_import_view, name="import"),
    path("import/confirm/", views.vehicle_import_confirm, name="import_confirm"),
    path("freshness/", views.freshness_view, name="freshness"),
    path("<int:pk>/", views.vehicle_detail, name="vehicle_detail"),
    path("<int:pk>/edit/", views.vehicle_edit, name="vehicle_edit"),
    path("<int:pk>/status/", views.vehicle_transition_view, name="vehicle_transition"),
    path("<int:pk>/photos/", views.photos_upload_view, name="photos_upload"),
    path("<int:pk>/photos/grid/", views.photos_grid, name="photos_grid"),
    path("<int:pk>/photos/order/", views.photos_order_view, name="photos_order"),
    path("photos/<int:pk>/move/", views.photo_move_view, name="photo_move"),
    path("photos/<int:pk>/main/", views.photo_main_view, name="photo_main"),
    path("photos/<int:pk>/delete/", views.photo_delete_view, name="photo_delete"),
]

# The store's website, no login: included at /vehicles/ under the namespace "vehicles".
public_urlpatterns = (
    [
        path("", views.public_list, name="list"),
        path("<int:pk>-<slug:slug>/", views.public_detail, name="detail"),
        path("feed.json", views.feed_json, name="feed_json"),
        path("feed.csv", views.feed_csv, name="feed_csv"),
        path(
            "sitemap.xml",
            sitemap,
            {"sitemaps": {"vehicles": PublishedVehicleSitemap}},
            name="sitemap",
        ),
    ],
    "vehicles",
)
