from django.urls import path

from . import views

app_name = "leads"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<int:pk>/", views.lead_detail, name="lead_detail"),
    path("<int:pk>/status/", views.lead_transition_view, name="lead_transition"),
    path("appointments/mine/", views.my_appointments, name="my_appointments"),
    path("department-mail/", views.department_mail, name="department_mail"),
    path("mail/", views.inbound_mail_list_view, name="inbound_mail_list"),
    path("mail/<int:pk>/", views.inbound_mail_detail, name="inbound_mail_detail"),
    path("mail/<int:pk>/original/", views.inbound_mail_original, name="inbound_mail_original"),
    path("mail/<int:pk>/replay/", views.inbound_mail_replay_view, name="inbound_mail_replay"),
]
