from django.conf import settings
from django.db import models


class Role(models.TextChoices):
    SUPERVISOR = "supervisor", "Internet sales supervisor"
    ADVISOR = "advisor", "Sales advisor"
    MANAGER = "manager", "Sales manager"
    DEPARTMENT = "department", "Department staff"
    ADMIN = "admin", "Administrator"


class Department(models.Model):
    class Code(models.TextChoices):
        SALES = "sales", "Sales"
        SERVICE = "service", "Service"
        PARTS = "parts", "Parts"
        FINANCE = "finance", "Finance"
        BODY_SHOP = "body_shop", "Body shop"

    code = models.CharField(max_length=20, choices=Code.choices, unique=True)
    name = models.CharField(max_length=80)
    forward_email = models.EmailField(help_text="Mail for this department is forwarded here.")

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class StaffMember(models.Model):
    """A person who works at the store; name and email live on the login account."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff")
    role = models.CharField(max_length=20, choices=Role.choices)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="staff")
    title = models.CharField(max_length=100, blank=True)
    phone = models.CharField(max_length=30, blank=True)

    class Meta:
        ordering = ["user__last_name", "user__first_name"]
        permissions = [("send_directory", "Can send the staff directory to all staff")]

    def __str__(self):
        return self.user.get_full_name() or self.user.get_username()

    @property
    def name(self) -> str:
        return str(self)

    @property
    def email(self) -> str:
        return self.user.email
