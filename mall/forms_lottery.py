"""Staff forms of 抽奖活动: the campaign with its prizes (a formset), an on-site winner and
a prize handed over at the desk. They only validate; mall/lottery.py writes."""

from decimal import Decimal

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Q
from django.forms import inlineformset_factory
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from coupons.models import CouponTemplate
from mall.models import PRIZE_VALUE_MAX_FEN, LotteryCampaign, LotteryPrize
from members.models import Member

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]
PRIZE_VALUE_MAX_YUAN = Decimal(PRIZE_VALUE_MAX_FEN) / 100


def _datetime_field(label):
    return forms.DateTimeField(
        label=label,
        input_formats=DATETIME_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


class CampaignForm(forms.ModelForm):
    starts_at = _datetime_field(_("starts at"))
    ends_at = _datetime_field(_("ends at"))

    class Meta:
        model = LotteryCampaign
        fields = [
            "name",
            "store",
            "style",
            "starts_at",
            "ends_at",
            "points_per_draw",
            "daily_limit",
            "total_limit",
            "rules",
            "claim_rules",
            "claim_days",
        ]
        labels = {"rules": pgettext_lazy("lottery", "Rules")}
        widgets = {
            "rules": forms.Textarea(attrs={"rows": 5}),
            "claim_rules": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, stores, all_stores: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = stores
        self.fields["store"].required = not all_stores  # only HQ scope runs a chain-wide one
        self.fields["store"].empty_label = (
            pgettext_lazy("lottery", "Every store") if all_stores else None
        )

    def clean(self):
        data = super().clean()
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", _("The end must come after the start."))
        return data


class PrizeForm(forms.ModelForm):
    value_yuan = forms.DecimalField(
        label=_("value (yuan)"),
        max_digits=9,
        decimal_places=2,
        initial=0,
        validators=[
            MinValueValidator(Decimal(0)),
            MaxValueValidator(
                PRIZE_VALUE_MAX_YUAN,
                message=_("A prize may be worth at most ¥50,000."),
            ),
        ],
        help_text=_("At most ¥50,000 (the prize-sales rules)."),
    )

    class Meta:
        model = LotteryPrize
        fields = ["name", "kind", "weight", "initial_stock", "points", "coupon_template", "image"]
        labels = {"initial_stock": _("quantity")}
        widgets = {
            "weight": forms.NumberInput(attrs={"min": 1, "data-weight": ""}),
            "initial_stock": forms.NumberInput(attrs={"min": 0}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["value_yuan"].initial = Decimal(self.instance.value_fen) / 100
        templates = CouponTemplate.objects.filter(is_active=True)
        if self.instance.coupon_template_id:
            templates = CouponTemplate.objects.filter(
                Q(is_active=True) | Q(pk=self.instance.coupon_template_id)
            )
        self.fields["coupon_template"].queryset = templates.order_by("name")
        self.fields["initial_stock"].help_text = _("Empty only for “no prize”: unlimited.")

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        quantity = data.get("initial_stock")
        if kind and kind != LotteryPrize.Kind.NOTHING and quantity is None:
            self.add_error("initial_stock", _("A prize needs a published quantity."))
        if quantity is not None and quantity < 0:
            self.add_error("initial_stock", _("The quantity cannot be negative."))
        if kind == LotteryPrize.Kind.POINTS and not data.get("points"):
            self.add_error("points", _("How many points does this prize give?"))
        if kind == LotteryPrize.Kind.COUPON and not data.get("coupon_template"):
            self.add_error("coupon_template", _("Choose the coupon template for this prize."))
        return data

    def service_fields(self) -> dict:
        """The prize's fields as mall/lottery.py's prize_create / prize_update take them."""
        data = self.cleaned_data
        kind = data["kind"]
        fields = {
            "name": data["name"],
            "kind": kind,
            "weight": data["weight"],
            "stock": data.get("initial_stock"),
            "points": (data.get("points") or 0) if kind == LotteryPrize.Kind.POINTS else 0,
            "coupon_template": data.get("coupon_template")
            if kind == LotteryPrize.Kind.COUPON
            else None,
            "value_fen": int(data["value_yuan"] * 100),
        }
        if data.get("image") is not None and data.get("image") != self.initial.get("image"):
            fields["image"] = data["image"] or ""
        return fields


PrizeFormSet = inlineformset_factory(
    LotteryCampaign,
    LotteryPrize,
    form=PrizeForm,
    extra=3,
    can_delete=True,
    min_num=1,
    validate_min=True,
)

# A started campaign's prizes, read-only: no empty rows to fill.
FrozenPrizeFormSet = inlineformset_factory(
    LotteryCampaign, LotteryPrize, form=PrizeForm, extra=0, can_delete=True
)


class OnSiteWinnerForm(forms.Form):
    prize_name = forms.CharField(label=_("prize"), max_length=32)
    winner_name = forms.CharField(
        label=_("winner"), max_length=32, help_text=_("Shown masked to members.")
    )
    drawn_at = _datetime_field(_("drawn at"))
    card_no = forms.CharField(
        label=_("member card number"),
        max_length=32,
        required=False,
        help_text=_("Optional: the winner's member card."),
    )
    note = forms.CharField(label=_("note"), max_length=200, required=False)

    def clean_card_no(self):
        card_no = self.cleaned_data["card_no"].strip()
        if not card_no:
            return None
        member = Member.objects.filter(card_no=card_no).first()
        if member is None:
            raise forms.ValidationError(_("No member has this card number."))
        return member


class PickupForm(forms.Form):
    code = forms.CharField(
        label=pgettext_lazy("lottery", "Pickup code"),
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )

    def clean_code(self):
        return self.cleaned_data["code"].strip().replace(" ", "").upper()
