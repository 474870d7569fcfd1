from django import forms
from django.contrib.auth import get_user_model
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from dealership.forms import DAY_IN_REACH, DayInput
from dealership.numbers import is_ascii_digits

from .models import Language, Lead, LeadStatus, ReplyTemplate, RoutingRule
from .selectors.leads import REACHED_STAGES, inbox_order, lead_owner_choices, person_name
from .selectors.replies import reply_templates
from .services.leads import LOGGABLE_CHANNELS, OVERSEER_MOVES, ContactOutcome, lead_next_statuses
from .services.replies import MERGE_FIELDS, REPLY_SUBJECT_MAX_LENGTH, merge_field_tags
from .services.routing import RULE_FIELDS


def choices_from(field: forms.ModelChoiceField, queryset, *, label, rows=None) -> None:
    """Offer a queryset's rows, read once: validation still checks the submitted id against it.
    `rows`: the same rows, already read (from the cache), so the queryset is read only to validate."""
    field.queryset = queryset
    offered = queryset if rows is None else rows
    field.choices = [("", field.empty_label or "")] + [(row.pk, label(row)) for row in offered]


class LeadTransitionForm(forms.Form):
    status = forms.ChoiceField(
        label=_("New status"), error_messages={"required": _("Choose the new status.")}
    )
    reason = forms.CharField(required=False, max_length=200, label=_("Reason (when lost or not a lead)"))
    # A sale joins the customer's history and gives two years of implied consent, and only a
    # supervisor or a manager takes it back: it is confirmed apart, so that a slip in the list never
    # sells a car.
    deal_signed = forms.BooleanField(
        required=False,
        label=_("The deal is signed (for Sold)"),
        help_text=_("A sale joins the customer's history; only a supervisor or a manager can take it back."),
    )
    # Taking a sale back is confirmed apart too, offered to those who may on a sold lead only.
    deal_fell_through = forms.BooleanField(
        required=False,
        label=_("The deal fell through (for Lost)"),
        help_text=_(
            "The deal fell through: the sale is taken off the figures and the customer's history, "
            "and the purchase's implied consent ends."
        ),
    )
    # The status the page showed: a change made from a page left open is checked against it.
    shown_status = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, lead: Lead, person, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["shown_status"].initial = lead.status
        offered = lead_next_statuses(lead, by_hand=True, actor=person)
        # An empty shown status (a form sent by hand or a script) says nothing changed meanwhile.
        changed_meanwhile = self.is_bound and (self.data.get("shown_status") or lead.status) != lead.status
        undoes_sale = lead.status == LeadStatus.SOLD and LeadStatus.LOST in offered and not changed_meanwhile
        if changed_meanwhile:
            # Chosen on a page left open, among what it offered then: lead_transition says the lead
            # changed meanwhile, rather than this form calling the choice invalid.
            offered = set(LeadStatus.values)
        elif self.is_bound:
            # A move kept for those who oversee the store, sent by someone else: lead_transition
            # says who may make it, rather than this form calling the choice invalid.
            offered |= {to_status for from_status, to_status in OVERSEER_MOVES if from_status == lead.status}
        allowed = [(value, label) for value, label in LeadStatus.choices if value in offered]
        # Nothing chosen at first: a click on "Change status" never moves the lead by default.
        # No choice at all when the lead can go nowhere (merged; sold, for someone who does not
        # oversee the store): the page offers no form.
        self.fields["status"].choices = [("", "—"), *allowed] if allowed else []
        if LeadStatus.SOLD not in offered:
            del self.fields["deal_signed"]
        if not undoes_sale:
            del self.fields["deal_fell_through"]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("status") == LeadStatus.SOLD and not cleaned.get("deal_signed"):
            self.add_error(
                "deal_signed",
                _(
                    "Tick “The deal is signed” to mark the lead sold: only a supervisor or a manager "
                    "can take a sale back."
                ),
            )
        if (
            cleaned.get("status") == LeadStatus.LOST
            and "deal_fell_through" in self.fields
            and not cleaned.get("deal_fell_through")
        ):
            self.add_error(
                "deal_fell_through",
                _(
                    "Tick “The deal fell through” to mark a sold lead lost: the sale comes off the figures "
                    "and the customer's history."
                ),
            )
        return cleaned


class RoutingRuleForm(forms.ModelForm):
    class Meta:
        model = RoutingRule
        fields = list(RULE_FIELDS)
        widgets = {"text_contains": forms.Textarea(attrs={"rows": 3})}
        labels = {
            "name": _("Name"),
            "active": pgettext_lazy("rule", "Active"),
            "order": _("Order"),
            "sender_contains": _("Sender contains"),
            "sender_regex": _("Sender regex"),
            "recipient_contains": _("Recipient contains"),
            "subject_contains": _("Subject contains"),
            "text_contains": _("Text contains"),
            "kind": _("Kind"),
            "department": _("Department"),
            "acknowledge": _("Acknowledge"),
        }
        help_texts = {
            "order": _("Lower numbers are tried first."),
            "sender_contains": _("Sender address or name contains any of (comma-separated)."),
            "sender_regex": _("Sender address matches this regular expression."),
            "recipient_contains": _("Any recipient address contains any of (comma-separated)."),
            "subject_contains": _("Subject contains any of (comma-separated)."),
            "text_contains": _("Subject or body contains any of (one per line or comma-separated)."),
            "department": _("Left empty: found from the mail's words (sales for leads)."),
            "acknowledge": _("Send new leads an immediate acknowledgement."),
        }


class MailTestForm(forms.Form):
    """A raw message to triage: pasted, or an uploaded .eml file."""

    raw = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 12}), label=_("Raw message (headers and body)")
    )
    eml = forms.FileField(required=False, label=_("Or upload an .eml file"))

    MAX_BYTES = 25 * 1024 * 1024

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("eml")
        if upload and upload.size > self.MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than 25 MB."))
        if not upload and not (cleaned.get("raw") or "").strip():
            raise forms.ValidationError(_("Paste a message or choose an .eml file."))
        return cleaned

    def message_bytes(self) -> bytes:
        upload = self.cleaned_data.get("eml")
        if upload:
            return upload.read()
        # A pasted message: browsers send CRLF or LF; both parse.
        return self.cleaned_data["raw"].encode("utf-8")


# The inbox's status filter: the open leads, one status, or all of them ("Toutes", not Django's "Tout").
STATUS_FILTERS = [
    ("open", _("Open")),
    *LeadStatus.choices,
    ("all", pgettext_lazy("lead status filter", "All")),
]


def _former_owner_choice(user) -> tuple[str, str]:
    """A person no longer offered as an owner (deactivated, or out of sales since), named so."""
    return str(user.pk), _("%(name)s (no longer takes leads)") % {"name": person_name(user)}


class InboxFilterForm(forms.Form):
    """The inbox's query string; anything malformed is dropped (the page says so), never an error page."""

    status = forms.ChoiceField(required=False, choices=STATUS_FILTERS, label=pgettext_lazy("lead", "Status"))
    unanswered = forms.BooleanField(required=False, label=_("Unanswered"))
    overdue = forms.BooleanField(required=False, label=_("Overdue"))
    replied = forms.BooleanField(required=False, label=_("Replied"))
    q = forms.CharField(required=False, max_length=100, label=_("Search"))
    source = forms.CharField(required=False, max_length=100, label=_("Source"))
    owner = forms.ChoiceField(required=False, label=_("Owner"))
    # From the dashboard: a person's sales, whoever owns each lead now (a colleague who delivers).
    seller = forms.ChoiceField(required=False, label=_("Sold by"))
    language = forms.ChoiceField(
        required=False, choices=[("", _("Any language")), *Language.choices], label=_("Language")
    )
    received_from = forms.DateField(
        required=False,
        widget=DayInput(),
        validators=DAY_IN_REACH,
        label=_("Received from"),
    )
    received_to = forms.DateField(
        required=False,
        widget=DayInput(),
        validators=DAY_IN_REACH,
        label=_("Received to"),
    )
    sort = forms.ChoiceField(
        required=False,
        choices=[("newest", _("Newest first")), ("urgent", _("Most urgent first"))],
        label=_("Sort"),
    )
    # From the dashboard: leads that reached a stage of the funnel (whatever their status now).
    reached = forms.ChoiceField(
        required=False,
        choices=[("", _("Any stage")), *((stage, LeadStatus(stage).label) for stage in REACHED_STAGES)],
        label=_("Stage reached"),
    )
    # Far past the last page of any store, and still an offset the database takes.
    page = forms.IntegerField(
        required=False, min_value=1, max_value=100_000, widget=forms.HiddenInput, label=_("Page")
    )
    # Where the page before ended, as its Next link writes it (InboxPage.after); cleaned into the
    # keys of that lead in the order listed, which the page goes on after.
    after = forms.CharField(
        required=False, max_length=100, widget=forms.HiddenInput, label=_("Page position")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        offered = lead_owner_choices()
        self.fields["owner"].choices = [
            ("", _("Any owner")),
            ("none", _("Unassigned")),
            *offered,
            *self._former_owner("owner", offered),
        ]
        self.fields["seller"].choices = [("", _("Anyone")), *offered, *self._former_owner("seller", offered)]

    def _former_owner(self, field: str, offered: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """The person `field` asks for when no longer offered (deactivated, or out of sales since):
        their leads and sales stay theirs, and a link from the dashboard still lists them."""
        person = self.data.get(field, "")
        if not is_ascii_digits(person) or person in dict(offered):
            return []
        user = get_user_model().objects.filter(pk=person).first()
        return [_former_owner_choice(user)] if user else []

    def clean(self):
        cleaned = super().clean()
        received_from, received_to = cleaned.get("received_from"), cleaned.get("received_to")
        if received_from and received_to and received_to < received_from:
            # Such a range lists nothing: neither end is applied, and the page says why.
            del cleaned["received_from"]
            self.add_error("received_to", _("Earlier than the start date: neither date was applied."))
        if position := cleaned.get("after"):
            if (keys := inbox_order(cleaned).position_values(position)) is None:
                self.add_error("after", _("Not a position in this list: the page was found by its number."))
            else:
                cleaned["after"] = keys
        return cleaned

    def filters(self) -> dict:
        """The valid filters; invalid ones are ignored."""
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if value not in (None, "", False)}


class ReplyForm(forms.Form):
    template = forms.ModelChoiceField(
        queryset=ReplyTemplate.objects.none(), required=False, empty_label=_("No template")
    )
    language = forms.ChoiceField(choices=Language.choices, widget=forms.HiddenInput)
    subject = forms.CharField(max_length=REPLY_SUBJECT_MAX_LENGTH, label=_("Subject"))
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 12}), label=_("Message"))
    # The latest answer to the customer, or message of theirs, the page showed (reply_last_answer_id):
    # an answer written on a page left open is checked against it.
    shown_answer = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    # Offered once an answer sent or a message of the customer's that came meanwhile refused this one;
    # its value is that message, now seen: from then on it is the latest the page showed.
    send_anyway = forms.IntegerField(required=False, min_value=0, label=_("Send anyway"))
    # The stock vehicles the page warned were sold or on hold ("12,15"): one sold since is told of.
    unavailable_shown = forms.CharField(required=False, widget=forms.HiddenInput)
    # The template whose draft the page filled the composer with (empty: none): "Use template"
    # without JS replaces a draft still as it was written, never the person's own words.
    drafted_from = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(
        self,
        *args,
        templates: list[ReplyTemplate],
        unfilled: list[str] = (),
        unavailable: list[tuple] = (),
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        if self.is_bound:
            self._take_sent_anyway_as_shown()
        choices_from(self.fields["template"], reply_templates(active_only=True), label=str, rows=templates)
        # Without JS the template select is the reply form's, its choice sent with the answer: what
        # is sent reads nothing of it, and a template switched off since is no reason to refuse it.
        # The select shows the form's initial template (the one asked for, when words were kept).
        self.fields["template"].disabled = self.is_bound
        # The draft's merge fields that had nothing to fill in, as written: "{{ price }}".
        self.unfilled = merge_field_tags(unfilled)
        # The vehicles asked about that are sold or on hold, beside their stock (vehicles_unavailable).
        self.unavailable = unavailable
        # The answer someone gave, or the customer's message, that came while this one was being
        # written, once it refused this one; and the number of the customer's other inquiry it came
        # on, when the sender may open it.
        self.answered_meanwhile = None
        self.answered_on_lead = None
        # "Use template" pressed without JS over words of the person's own: they were kept, and the
        # page says how to replace them (lead_template_use).
        self.words_kept = False

    def holds_own_words(self, draft: dict) -> bool:
        """Whether the subject or the message sent holds words of the person's own: neither emptied
        nor left as `draft` (reply_draft's, of the template the composer was drafted from) wrote it.
        Browsers send a message's lines ended by CRLF; spaces at either end are no words."""

        def text(value: str) -> str:
            return value.replace("\r\n", "\n").replace("\r", "\n").strip()

        return any(
            text(self.data.get(name, "")) not in ("", text(draft[name])) for name in ("subject", "body")
        )

    def clean_unavailable_shown(self) -> set[int]:
        # A part that is no id (a page mangled on its way) names no vehicle: it is left out.
        parts = (part.strip() for part in self.cleaned_data["unavailable_shown"].split(","))
        return {int(part) for part in parts if is_ascii_digits(part)}

    def _take_sent_anyway_as_shown(self) -> None:
        """A message the sender was told of and chose to send anyway after is one they have read: it
        becomes the latest the page showed. The page that comes back with this answer (refused for
        another reason, a template asked for) carries it so, and is not held for it again."""
        anyway, shown = str(self.data.get("send_anyway", "")), str(self.data.get("shown_answer", ""))
        if is_ascii_digits(anyway) and not (is_ascii_digits(shown) and int(shown) >= int(anyway)):
            self.data = self.data.copy()
            self.data["shown_answer"] = anyway


class ContactLogForm(forms.Form):
    channel = forms.ChoiceField(
        choices=[(channel.value, channel.label) for channel in LOGGABLE_CHANNELS], label=_("Channel")
    )
    # The outcomes' English text is what a call keeps as its subject; people read it in their language.
    outcome = forms.ChoiceField(
        required=False,
        choices=[
            ("", _("— call outcome —")),
            *((value, _(label)) for value, label in ContactOutcome.CHOICES),
        ],
        label=_("Call outcome"),
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), label=_("Notes"))
    next_step = forms.CharField(required=False, max_length=200, label=_("Next step"))
    # A day given makes the next step a task of the lead's owner (else of whoever logs it);
    # contact_log refuses a day past.
    next_step_on = forms.DateField(
        required=False, widget=DayInput(), validators=DAY_IN_REACH, label=_("Next step on")
    )
    # Left empty: now. A time typed is the store's (the page's time zone), to the minute.
    occurred_at = forms.DateTimeField(
        required=False,
        label=_("When"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


class ReplyTemplateForm(forms.ModelForm):
    class Meta:
        model = ReplyTemplate
        fields = ["name", "inquiry_type", "language", "subject", "body", "active"]
        widgets = {"body": forms.Textarea(attrs={"rows": 14})}
        labels = {
            "name": _("Name"),
            "inquiry_type": _("Inquiry type"),
            "language": _("Language"),
            "subject": _("Subject"),
            "body": _("Body"),
            "active": pgettext_lazy("reply template", "Active"),
        }

    # When the template was last saved, as the page showed it (reply_template_save): a save made
    # since by someone else is told of rather than overwritten. Empty (a new template): not checked.
    shown_updated_at = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["body"].help_text = _("Merge fields: %(fields)s") % {
            "fields": merge_field_tags(MERGE_FIELDS)
        }
        if self.instance.pk:
            self.fields["shown_updated_at"].initial = self.instance.updated_at.isoformat()
        # The template as someone else saved it meanwhile, once that refused this save.
        self.current = None

    def changed_meanwhile(self, current: ReplyTemplate) -> None:
        """This save was refused: `current`, the template as it is now, is shown beside what was
        typed, which stays in the form; saving it again then puts it in the place of `current`."""
        self.current = current
        self.data = self.data.copy()
        self.data["shown_updated_at"] = current.updated_at.isoformat()


class LeadMergeForm(forms.Form):
    duplicate = forms.ModelChoiceField(queryset=Lead.objects.none(), label=_("Duplicate lead to fold in"))

    def __init__(self, *args, duplicates, **kwargs):
        super().__init__(*args, **kwargs)
        choices_from(
            self.fields["duplicate"],
            duplicates,
            label=lambda lead: (
                _("Lead %(number)s · %(status)s · %(received)s · %(owner)s")
                % {
                    "number": lead.pk,
                    "status": lead.get_status_display(),
                    "received": formats.date_format(timezone.localtime(lead.received_at), "DATE_FORMAT"),
                    "owner": person_name(lead.owner) or _("unassigned"),
                }
            ),
        )


class LeadAssignForm(forms.Form):
    """Who owns the lead: one of the people who may own leads, or nobody; its owner stays shown
    when no longer offered, so that Assign pressed as it is changes nothing."""

    # Any person, not only those offered (owner_choices): one who stopped taking leads since the page
    # was drawn is refused by lead_assign by name. Empty: nobody.
    owner = forms.ModelChoiceField(
        queryset=get_user_model().objects.all(),
        required=False,
        label=_("Owner"),
        error_messages={"invalid_choice": _("Choose the owner from the list.")},
    )
    # The owner the page showed (0: nobody): one given the lead since is named by lead_assign, and
    # the lead stays theirs. Empty (a form sent by hand or a script): not checked.
    shown_owner = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    def __init__(self, *args, lead: Lead, **kwargs):
        super().__init__(*args, **kwargs)
        offered = lead_owner_choices()
        owner = lead.owner
        former = [_former_owner_choice(owner)] if owner and str(owner.pk) not in dict(offered) else []
        self.owner_choices = [("", _("Unassigned")), *offered, *former]
        self.fields["owner"].initial = lead.owner_id
        self.fields["shown_owner"].initial = lead.owner_id or 0
