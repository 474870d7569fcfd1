from django.urls import path

from . import public_views

app_name = "offers"

urlpatterns = [
    path("", public_views.offers_index, name="index"),
    path("thanks/", public_views.thanks, name="thanks"),
    path("<slug:slug>/", public_views.landing, name="landing"),
]
