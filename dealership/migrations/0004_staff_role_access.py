"""Give everyone on staff exactly their role's access once: people whose role was changed before
a role change carried its access kept the old role's permission group (and administrators their
admin-site access). Running it again changes nothing."""

from django.conf import settings
from django.db import migrations

# Each role's permission group, by name, as this migration found them.
ROLE_GROUPS = {
    "supervisor": "Internet sales supervisor",
    "advisor": "Sales advisor",
    "manager": "Sales manager",
    "department": "Department staff",
    "admin": "Administrator",
}


def staff_role_access_set(apps, schema_editor):
    StaffMember = apps.get_model("dealership", "StaffMember")
    Group = apps.get_model("auth", "Group")
    staff = list(StaffMember.objects.select_related("user"))
    if not staff:
        return
    groups = {role: Group.objects.get_or_create(name=name)[0] for role, name in ROLE_GROUPS.items()}
    for member in staff:
        user = member.user
        user.groups.remove(*(group for role, group in groups.items() if role != member.role))
        if member.role in groups:
            user.groups.add(groups[member.role])
        admin = member.role == "admin"
        if (user.is_staff, user.is_superuser) != (admin, admin):
            user.is_staff = user.is_superuser = admin
            user.save(update_fields=["is_staff", "is_superuser"])


class Migration(migrations.Migration):
    dependencies = [
        ("dealership", "0003_timeline_events"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [migrations.RunPython(staff_role_access_set, migrations.RunPython.noop)]
