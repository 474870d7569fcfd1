from django.urls import path

from . import views

app_name = "promotions"

urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.promotion_new, name="new"),
    path("calendar/", views.calendar, name="calendar"),
    path("<int:pk>/", views.promotion_detail, name="detail"),
    path("<int:pk>/edit/", views.promotion_edit, name="edit"),
    path("<int:pk>/status/", views.promotion_transition_view, name="transition"),
    path("<int:pk>/leaflet.pdf", views.promotion_leaflet, name="leaflet"),
    path("<int:pk>/campaigns/new/", views.campaign_new, name="campaign_new"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign_detail"),
    path("campaigns/<int:pk>/start/", views.campaign_start_view, name="campaign_start"),
    path("campaigns/<int:pk>/pause/", views.campaign_pause_view, name="campaign_pause"),
    path("print/", views.print_materials, name="print"),
    path("print/cards/<int:pk>.pdf", views.business_card, name="business_card"),
    path("shared/", views.infoshare_list, name="infoshare_list"),
    path("shared/new/", views.infoshare_new, name="infoshare_new"),
]
