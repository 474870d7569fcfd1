"""Customer pages, under /leads/ in the "leads" namespace."""

from django.urls import path

from . import customer_views as views

urlpatterns = [
    path("customers/", views.customer_list, name="customer_list"),
    path("customers/export.csv", views.customers_export_csv, name="customers_export_csv"),
    path("customers/duplicates/", views.customer_duplicates_view, name="customer_duplicates"),
    path("customers/merge/", views.customer_merge_view, name="customer_merge"),
    path("customers/import/", views.customer_import_upload, name="customer_import"),
    path("customers/import/<int:pk>/", views.customer_import_mapping, name="customer_import_mapping"),
    path("customers/<int:pk>/", views.customer_detail, name="customer_detail"),
    path("customers/<int:pk>/edit/", views.customer_edit, name="customer_edit"),
    path("customers/<int:pk>/contacts/", views.customer_contact_add, name="customer_contact_add"),
    path("customers/<int:pk>/consent/", views.customer_consent, name="customer_consent"),
    path("customers/<int:pk>/consent/grant/", views.customer_consent_grant, name="customer_consent_grant"),
    path(
        "customers/<int:pk>/consent/withdraw/",
        views.customer_consent_withdraw,
        name="customer_consent_withdraw",
    ),
    path("customers/<int:pk>/audit/", views.customer_audit_view, name="customer_audit"),
    path("customers/<int:pk>/export.json", views.customer_export_json, name="customer_export_json"),
    path("loyalty/rules/", views.loyalty_rules, name="loyalty_rules"),
    path("loyalty/rules/<int:pk>/", views.loyalty_rule_toggle, name="loyalty_rule_toggle"),
    path("tasks/mine/", views.my_tasks, name="my_tasks"),
    path("tasks/<int:pk>/done/", views.task_done_view, name="task_done"),
]
