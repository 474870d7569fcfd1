from django.urls import path

from . import appointment_views, views, views_rules
from .customer_urls import urlpatterns as customer_urlpatterns

app_name = "leads"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("waiting/", views.inbox_waiting, name="inbox_waiting"),
    path("<int:pk>/", views.lead_detail, name="lead_detail"),
    path("<int:pk>/status/", views.lead_transition_view, name="lead_transition"),
    path("<int:pk>/reply/", views.lead_reply, name="lead_reply"),
    path("<int:pk>/reply/template/", views.lead_template_use, name="lead_template_use"),
    path("<int:pk>/log/", views.lead_log, name="lead_log"),
    path("<int:pk>/merge/", views.lead_merge_view, name="lead_merge"),
    path("<int:pk>/owner/", views.lead_assign_view, name="lead_assign"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment_download"),
    path("templates/", views.replytemplate_list, name="replytemplate_list"),
    path("templates/new/", views.replytemplate_edit, name="replytemplate_create"),
    path("templates/<int:pk>/", views.replytemplate_edit, name="replytemplate_edit"),
    path("templates/<int:pk>/delete/", views.replytemplate_delete, name="replytemplate_delete"),
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
    *customer_urlpatterns,
    path("<int:pk>/appointments/new/", appointment_views.appointment_book_view, name="appointment_book"),
    path("appointments/", appointment_views.appointment_calendar_view, name="appointment_calendar"),
    path(
        "appointments/<int:pk>/reschedule/",
        appointment_views.appointment_reschedule_view,
        name="appointment_reschedule",
    ),
    path(
        "appointments/<int:pk>/outcome/",
        appointment_views.appointment_outcome_view,
        name="appointment_outcome",
    ),
    path("followup/plans/", appointment_views.followupplan_list, name="followupplan_list"),
    path("followup/plans/new/", appointment_views.followupplan_form, name="followupplan_create"),
    path("followup/plans/<int:pk>/", appointment_views.followupplan_form, name="followupplan_update"),
    path("<int:pk>/followup/", appointment_views.lead_followup, name="lead_followup"),
    path("<int:pk>/followup/start/", appointment_views.lead_followup_start, name="lead_followup_start"),
    path("<int:pk>/followup/stop/", appointment_views.lead_followup_stop, name="lead_followup_stop"),
    path("tasks/", appointment_views.task_list, name="task_list"),
    path("followup/tasks/<int:pk>/done/", appointment_views.task_done, name="followup_task_done"),
    path("followup/tasks/<int:pk>/send/", appointment_views.task_send, name="followup_task_send"),
]
