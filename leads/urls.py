from django.urls import path

from . import views
from .customer_urls import urlpatterns as customer_urlpatterns

app_name = "leads"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<int:pk>/", views.lead_detail, name="lead_detail"),
    path("<int:pk>/status/", views.lead_transition_view, name="lead_transition"),
    path("appointments/mine/", views.my_appointments, name="my_appointments"),
    path("department-mail/", views.department_mail, name="department_mail"),
    *customer_urlpatterns,
]
