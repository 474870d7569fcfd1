from django.urls import path

from . import views, views_rules
from .customer_urls import urlpatterns as customer_urlpatterns

app_name = "leads"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<int:pk>/", views.lead_detail, name="lead_detail"),
    path("<int:pk>/status/", views.lead_transition_view, name="lead_transition"),
    path("<int:pk>/reply/", views.lead_reply, name="lead_reply"),
    path("<int:pk>/log/", views.lead_log, name="lead_log"),
    path("<int:pk>/merge/", views.lead_merge_view, name="lead_merge"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment_download"),
    path("templates/", views.replytemplate_list, name="replytemplate_list"),
    path("templates/new/", views.replytemplate_edit, name="replytemplate_create"),
    path("templates/<int:pk>/", views.replytemplate_edit, name="replytemplate_edit"),
    path("templates/<int:pk>/delete/", views.replytemplate_delete, name="replytemplate_delete"),
    path("appointments/mine/", views.my_appointments, name="my_appointments"),
    path("department-mail/", views.department_mail, name="department_mail"),
    path("rules/", views_rules.rule_list, name="rule_list"),
    path("rules/new/", views_rules.rule_create, name="rule_create"),
    path("rules/<int:pk>/", views_rules.rule_edit, name="rule_edit"),
    path("rules/<int:pk>/delete/", views_rules.rule_delete, name="rule_delete"),
    path("rules/test/", views_rules.rule_test, name="rule_test"),
    *customer_urlpatterns,
]
