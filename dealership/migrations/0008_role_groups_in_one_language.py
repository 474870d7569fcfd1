"""One permission group per role, by its English name. Role groups used to be named in the language
the application was read in when they were made: a French store got French-named groups from
setup_store, and a second set in English when a role was changed on a page read in English, with
people left in the old role's French group (and a demoted administrator left a superuser).

Each French-named group is folded into its role's English-named one (its people and permissions
go there; it is renamed when there is none), then everyone on staff is given exactly their role's
group, as a role change does. Groups added by hand are kept. A store whose groups are all in English
is left as it is; running it again changes nothing."""

from django.conf import settings
from django.db import migrations

# Each role's permission group: its name, and the name it got in French.
ROLE_GROUPS = {
    "supervisor": ("Internet sales supervisor", "Superviseur des ventes Internet"),
    "advisor": ("Sales advisor", "Conseiller aux ventes"),
    "manager": ("Sales manager", "Directeur des ventes"),
    "department": ("Department staff", "Personnel d’un service"),
    "admin": ("Administrator", "Administrateur"),
}


def role_groups_fold(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    StaffMember = apps.get_model("dealership", "StaffMember")
    french = {
        group.name: group
        for group in Group.objects.filter(name__in=[name for _, name in ROLE_GROUPS.values()])
    }
    if not french:
        return
    User = apps.get_model(settings.AUTH_USER_MODEL)
    admin_names = ROLE_GROUPS["admin"]
    # Who held the administrator role's access, in either language, before the groups are folded.
    had_admin_group = set(User.objects.filter(groups__name__in=admin_names).values_list("pk", flat=True))
    groups = {}
    for role, (name, french_name) in ROLE_GROUPS.items():
        folded = french.get(french_name)
        group = Group.objects.filter(name=name).first()
        if folded is None:
            groups[role] = group or Group.objects.create(name=name)
        elif group is None:
            folded.name = name
            folded.save(update_fields=["name"])
            groups[role] = folded
        else:
            group.permissions.add(*folded.permissions.all())
            group.user_set.add(*folded.user_set.all())
            folded.delete()
            groups[role] = group
    for member in StaffMember.objects.select_related("user"):
        user = member.user
        user.groups.remove(*(group for role, group in groups.items() if role != member.role))
        if member.role in groups:
            user.groups.add(groups[member.role])
        admin = member.role == "admin"
        if (admin or user.pk in had_admin_group) and (user.is_staff, user.is_superuser) != (admin, admin):
            user.is_staff = user.is_superuser = admin
            user.save(update_fields=["is_staff", "is_superuser"])


class Migration(migrations.Migration):
    dependencies = [
        ("dealership", "0007_objective_withdrawn"),
        ("auth", "0012_alter_user_first_name_max_length"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [migrations.RunPython(role_groups_fold, migrations.RunPython.noop)]
