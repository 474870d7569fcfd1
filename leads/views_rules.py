"""Pages where supervisors and managers edit the inbound mail routing rules and try them on a message."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .forms import MailTestForm, RoutingRuleForm
from .mail.parsing import parse_message
from .mail.triage import triage
from .models import RoutingRule
from .selectors.mail import department_forward_addresses
from .selectors.routing import routing_rule_list
from .services.routing import routing_rule_create, routing_rule_delete, routing_rule_update


@login_required
@permission_required("leads.view_routingrule", raise_exception=True)
def rule_list(request):
    return render(request, "leads/routingrule_list.html", {"rules": routing_rule_list()})


def _save(request, rule: RoutingRule | None):
    form = RoutingRuleForm(request.POST or None, instance=rule)
    # The form runs the model's own validation, the same the services run: a valid form saves.
    if request.method == "POST" and form.is_valid():
        if rule is None:
            rule = routing_rule_create(**form.cleaned_data)
        else:
            rule = routing_rule_update(rule=rule, **form.cleaned_data)
        messages.success(request, _("Rule “%(name)s” saved.") % {"name": rule.name})
        return redirect("leads:rule_list")
    return render(request, "leads/routingrule_form.html", {"form": form, "rule": rule})


@login_required
@permission_required("leads.add_routingrule", raise_exception=True)
def rule_create(request):
    return _save(request, None)


@login_required
@permission_required("leads.change_routingrule", raise_exception=True)
def rule_edit(request, pk: int):
    return _save(request, get_object_or_404(RoutingRule, pk=pk))


@login_required
@require_POST
@permission_required("leads.delete_routingrule", raise_exception=True)
def rule_delete(request, pk: int):
    rule = get_object_or_404(RoutingRule, pk=pk)
    routing_rule_delete(rule=rule)
    messages.success(request, _("Rule “%(name)s” deleted.") % {"name": rule.name})
    return redirect("leads:rule_list")


@login_required
@permission_required("leads.view_routingrule", raise_exception=True)
def rule_test(request):
    """Triage a pasted or uploaded message with the active rules; nothing is stored or sent."""
    form = MailTestForm(request.POST or None, request.FILES or None)
    parsed = result = None
    if request.method == "POST" and form.is_valid():
        parsed = parse_message(form.message_bytes())
        result = triage(
            parsed,
            rules=routing_rule_list(active_only=True),
            department_addresses=department_forward_addresses(),
        )
    return render(request, "leads/routingrule_test.html", {"form": form, "parsed": parsed, "result": result})
