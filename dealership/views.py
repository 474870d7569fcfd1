from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from .models import Role
from .selectors import staff_directory
from .tasks import directory_send_task

# Where each role starts its day.
ROLE_HOME = {
    Role.SUPERVISOR: "leads:inbox",
    Role.ADVISOR: "leads:my_appointments",
    Role.MANAGER: "dealership:dashboard",
    Role.DEPARTMENT: "leads:department_mail",
    Role.ADMIN: "admin:index",
}


@login_required
def home(request):
    staff = getattr(request.user, "staff", None)
    if staff is None:
        return redirect("admin:index" if request.user.is_staff else "dealership:directory")
    return redirect(ROLE_HOME[staff.role])


@login_required
def directory(request):
    return render(request, "dealership/staffmember_list.html", {"staff": staff_directory()})


@login_required
@require_POST
@permission_required("dealership.send_directory", raise_exception=True)
def directory_send_view(request):
    directory_send_task.delay_on_commit(
        sent_by_id=getattr(request.user, "staff", None) and request.user.staff.pk
    )
    messages.success(request, "The staff directory is being sent to every active staff member.")
    return redirect("dealership:directory")


@login_required
def dashboard(request):
    return render(request, "dealership/dashboard.html")
