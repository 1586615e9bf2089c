"""Staff forms of the workbench: the queue's filters and one form per ticket action."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from feedback import workbench
from feedback.models import Compensation, Ticket, TicketEvent, TicketType
from stores.models import Brand, Store
from stores.scoping import scoped

TEXT_MAX = 2000


class QueueFilterForm(forms.Form):
    MINE, UNASSIGNED = "mine", "unassigned"

    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), ("open", _("Open tickets")), *Ticket.Status.choices],
    )
    q = forms.CharField(label=_("Ticket number"), required=False, max_length=16)
    ticket_type = forms.ModelChoiceField(
        label=_("Type"), queryset=TicketType.objects.none(), required=False, empty_label=_("All")
    )
    store = forms.ModelChoiceField(
        label=_("Store"), queryset=Store.objects.none(), required=False, empty_label=_("All")
    )
    brand = forms.ModelChoiceField(
        label=_("Brand"), queryset=Brand.objects.none(), required=False, empty_label=_("All")
    )
    handler = forms.ChoiceField(label=_("Handler"), required=False)
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)

    def __init__(self, *args, user, tickets, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ticket_type"].queryset = TicketType.objects.order_by("position", "pk")
        self.fields["store"].queryset = scoped(Store.objects.all(), user=user, store_field="")
        self.fields["brand"].queryset = Brand.objects.filter(
            pk__in=tickets.order_by().values("brand_id")
        ).order_by("name")
        self.handlers = {u.pk: u for u in workbench.queue_handlers(tickets)}
        self.fields["handler"].choices = [
            ("", _("All")),
            (self.MINE, _("Mine")),
            (self.UNASSIGNED, _("Unassigned")),
            *[(str(pk), workbench.staff_name(u)) for pk, u in self.handlers.items()],
        ]


class TextForm(forms.Form):
    text = forms.CharField(
        label=_("Text"), max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 3})
    )


class StepForm(TextForm):
    text = forms.CharField(
        label=_("What was done"),
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Shown to the member."),
    )


class NoteForm(TextForm):
    text = forms.CharField(
        label=_("Internal note"),
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Staff only: never shown to the member."),
    )


class ResolveForm(TextForm):
    text = forms.CharField(
        label=_("Reply to the member"),
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What was done; the member reads it with the result."),
    )


class ReopenForm(TextForm):
    text = forms.CharField(label=_("Why reopen"), max_length=TEXT_MAX)


class HoldForm(forms.Form):
    text = forms.CharField(label=_("Note"), max_length=TEXT_MAX, required=False)


class EmptyForm(forms.Form):
    pass


class CallbackForm(forms.Form):
    called_at = forms.DateTimeField(
        label=_("Called at"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    outcome = forms.ChoiceField(label=_("call outcome"), choices=TicketEvent.Outcome.choices)
    text = forms.CharField(
        label=_("What was said"),
        max_length=TEXT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"called_at": timezone.localtime().replace(second=0)})
        super().__init__(*args, **kwargs)


class AssignForm(forms.Form):
    handler = forms.ModelChoiceField(label=_("Handler"), queryset=Ticket.objects.none())

    def __init__(self, *args, ticket, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["handler"].queryset = workbench.handlers_for(ticket)
        self.fields["handler"].label_from_instance = workbench.staff_name


class CompensationForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Compensate with"),
        choices=Compensation.Kind.choices,
        widget=forms.RadioSelect,
        initial=Compensation.Kind.POINTS,
    )
    points = forms.IntegerField(
        label=_("Points to grant"), required=False, min_value=1, max_value=10**6
    )
    template = forms.ModelChoiceField(
        label=_("Coupon"), queryset=Compensation.objects.none(), required=False
    )
    reason = forms.CharField(label=_("Why compensate"), max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = workbench.compensation_templates()

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind == Compensation.Kind.POINTS and not data.get("points"):
            self.add_error("points", _("Enter the number of points."))
        if kind == Compensation.Kind.COUPON and not data.get("template"):
            self.add_error("template", _("Choose a coupon."))
        return data
