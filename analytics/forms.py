from datetime import date
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from analytics.actions import ActionError, group_action_check, sms_variables_text
from analytics.models import MemberGroup, Tag
from core.forms import BaseStatisticsFilterForm
from coupons.models import CouponTemplate
from stores.models import Store
from stores.scoping import scoped


class ClvFilterForm(forms.Form):
    """The predicted value list's filter, e.g. likely to lapse: p_alive < 0.3 and value > ¥500."""

    p_alive_below = forms.DecimalField(
        label=_("Probability active below"),
        required=False,
        min_value=Decimal(0),
        max_value=Decimal(1),
        decimal_places=3,
    )
    value_above = forms.DecimalField(
        label=_("Expected value above (yuan)"),
        required=False,
        min_value=Decimal(0),
        decimal_places=2,
    )


class StatisticsFilterForm(BaseStatisticsFilterForm):
    """会员统计's filter: a store of the staff member's scope (or all of them), a range of
    Shanghai dates (default: this month and the eleven before it), the period of the time
    charts, and which chart to export as CSV."""

    MONTHS_BACK = 11

    def __init__(self, data, *, user, export_keys, today: date):
        stores = scoped(Store.objects.all(), user=user, store_field="")
        super().__init__(data, stores=stores, export_keys=export_keys, today=today)


class GroupActionForm(forms.Form):
    """An action on a group: its kind's parameters, the control share and the window. The
    service's own checks (group_action_check) run in clean(), so every refusal is a form
    error on its field."""

    KIND_FIELDS = {
        "coupon": ["coupon_template", "sms_text"],
        "sms": ["sms_text"],
        "message": ["title", "body", "link"],
        "tag": ["tag"],
    }
    ERROR_FIELDS = {
        "control_percent": "control_percent",
        "window_days": "window_days",
        "coupon_missing": "coupon_template",
        "coupon_inactive": "coupon_template",
        "coupon_ended": "coupon_template",
        "sms_empty": "sms_text",
        "sms_variable": "sms_text",
        "sms_brace": "sms_text",
        "sms_too_long": "sms_text",
        "message_empty": "title",
        "message_link": "link",
        "tag_missing": "tag",
    }

    name = forms.CharField(label=_("Action name"), max_length=100)
    coupon_template = forms.ModelChoiceField(
        label=_("Coupon"), queryset=CouponTemplate.objects.none(), required=False
    )
    sms_text = forms.CharField(
        label=_("SMS text"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    title = forms.CharField(label=_("Title"), max_length=64, required=False)
    body = forms.CharField(
        label=_("Text"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    link = forms.CharField(
        label=_("Link"),
        max_length=200,
        required=False,
        help_text=_("A page of this site such as /m/coupons/, or an https link."),
    )
    tag = forms.ModelChoiceField(label=_("Tag"), queryset=Tag.objects.all(), required=False)
    control_percent = forms.IntegerField(
        label=_("Control group (%)"),
        initial=10,
        min_value=0,
        max_value=50,
        help_text=_("This share of the group, drawn at random, gets nothing; 0 to 50."),
    )
    window_days = forms.IntegerField(
        label=_("Conversion window (days)"),
        initial=14,
        min_value=1,
        max_value=90,
        help_text=_("A member converts by buying within this many days of the start."),
    )

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        keep = self.KIND_FIELDS.get(kind, [])
        for field in {f for fields in self.KIND_FIELDS.values() for f in fields} - set(keep):
            del self.fields[field]
        if "coupon_template" in self.fields:
            self.fields["coupon_template"].queryset = CouponTemplate.objects.filter(
                is_active=True
            ).order_by("name")
        if "sms_text" in self.fields:
            coupon = kind == "coupon"
            self.fields["sms_text"].help_text = _(
                "Variables: %(variables)s. The reply-to-opt-out note is added at the end."
            ) % {"variables": sms_variables_text(coupon=coupon)}
            if coupon:
                self.fields["sms_text"].label = _("SMS notice (optional)")
                self.fields["sms_text"].help_text = (
                    _(
                        "Sent with the coupon to members who take marketing SMS, outside "
                        "the quiet hours, e.g. Your {coupon_name} has arrived."
                    )
                    + " "
                    + self.fields["sms_text"].help_text
                )

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            group_action_check(
                kind=self.kind,
                control_percent=data["control_percent"],
                window_days=data["window_days"],
                coupon_template=data.get("coupon_template"),
                sms_text=data.get("sms_text", ""),
                title=data.get("title", ""),
                body=data.get("body", ""),
                link=data.get("link", ""),
                tag=data.get("tag"),
            )
        except ActionError as exc:
            field = self.ERROR_FIELDS.get(exc.code)
            self.add_error(field if field in self.fields else None, exc.message)
        return data

    def action_fields(self) -> dict:
        """The cleaned parameters as group_action_create takes them."""
        return {
            key: value
            for key, value in self.cleaned_data.items()
            if key != "name" and value not in (None, "")
        }


class GroupForm(forms.Form):
    """Saving the list's filter as a group (the filter's fields come with it)."""

    name = forms.CharField(label=_("Group name"), max_length=64)
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=MemberGroup.Kind.choices,
        initial=MemberGroup.Kind.DYNAMIC,
        widget=forms.RadioSelect,
        help_text=_(
            "Dynamic: the filter is applied again each time the group is used. "
            "Static: the members who match now, kept as they are."
        ),
    )
    description = forms.CharField(label=_("Description"), max_length=500, required=False)


class TagForm(forms.Form):
    name = forms.CharField(label=_("Tag name"), max_length=32)
    kind = forms.ChoiceField(
        label=_("Kind"), choices=Tag.Kind.choices, initial=Tag.Kind.MANUAL, widget=forms.RadioSelect
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)


class BulkTagForm(forms.Form):
    tag = forms.ModelChoiceField(
        Tag.objects.filter(kind=Tag.Kind.MANUAL), label=_("Tag"), empty_label=None
    )
