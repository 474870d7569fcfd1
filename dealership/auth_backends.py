"""How a signed-in person is read on every request: as few round trips as Django allows."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from .cache_generations import cached_in_generation, generation_next

# A person's permissions are read from the cache, and again from the database after any change
# to who is in which group or what a group or person may do (see permissions_changed).
PERMISSIONS_SECONDS = 300
PERMISSIONS = "auth:permissions"
# The signed-in account and its staff record, read on every request, are kept in the cache too,
# and forgotten whenever either is saved or deleted (see account_changed).
ACCOUNT_SECONDS = 60


def _account_key(user_id) -> str:
    return f"auth:account:{user_id}"


class StaffModelBackend(ModelBackend):
    """Django's model backend, reading the staff record with the account, and every permission,
    the person's own and their groups', in one query each, both kept in the cache."""

    def get_user(self, user_id):
        user = cache.get(_account_key(user_id))
        if user is None:
            user_model = get_user_model()
            try:
                user = user_model._default_manager.select_related("staff").get(pk=user_id)
            except user_model.DoesNotExist:
                return None
            cache.set(_account_key(user_id), user, ACCOUNT_SECONDS)
        # Django still compares the session's password hash with this account's, so a changed
        # password signs the person out as before.
        return user if self.user_can_authenticate(user) else None

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            user_obj._perm_cache = cached_in_generation(
                PERMISSIONS,
                f"{user_obj.pk}:{int(user_obj.is_superuser)}",
                lambda: _permission_names(user_obj),
                PERMISSIONS_SECONDS,
            )
        return user_obj._perm_cache


def _permission_names(user) -> set[str]:
    names = Permission.objects.values_list("content_type__app_label", "codename").order_by()
    if not user.is_superuser:
        # The union takes the model's ordering again unless told not to.
        names = names.filter(user=user).union(names.filter(group__user=user)).order_by()
    return {f"{app_label}.{codename}" for app_label, codename in names}


def permissions_changed(**kwargs) -> None:
    """Forget every cached permission set once the change is committed."""
    transaction.on_commit(lambda: generation_next(PERMISSIONS))


def account_changed(*, sender, instance, **kwargs) -> None:
    """Forget the cached account now, and again once the change is committed: a request that read
    the old row in between may have put it back."""
    key = _account_key(instance.pk if sender is get_user_model() else instance.user_id)
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key))


def connect_auth_cache_signals() -> None:
    from .models import StaffMember

    user_model = get_user_model()
    for model in (user_model, StaffMember):
        for name, signal in (("save", post_save), ("delete", post_delete)):
            signal.connect(account_changed, sender=model, dispatch_uid=f"account:{name}:{model.__name__}")
    for through in (
        user_model.groups.through,
        user_model.user_permissions.through,
        Group.permissions.through,
    ):
        m2m_changed.connect(
            permissions_changed, sender=through, dispatch_uid=f"permissions:{through.__name__}"
        )
    for model in (Group, Permission):
        post_delete.connect(permissions_changed, sender=model, dispatch_uid=f"permissions:{model.__name__}")
