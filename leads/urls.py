from django.urls import path

from . import views, views_rules

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
    path("rules/", views_rules.rule_list, name="rule_list"),
    path("rules/new/", views_rules.rule_create, name="rule_create"),
    path("rules/<int:pk>/", views_rules.rule_edit, name="rule_edit"),
    path("rules/<int:pk>/delete/", views_rules.rule_delete, name="rule_delete"),
    path("rules/test/", views_rules.rule_test, name="rule_test"),
]
