"""Forms of the coupon pages: sending (发送优惠券), the service desk (核销), the admin."""

from decimal import Decimal

from django import forms
from django.contrib.admin.helpers import ActionForm
from django.utils.translation import gettext_lazy as _

from coupons import selectors
from coupons.issuing import coupon_code_normalise
from coupons.models import Campaign, CouponTemplate
from members.cards import card_nos_parse
from members.forms import card_list_errors
from members.models import StaffProfile
from members.scoping import scoped
from stores.models import Store

MAX_CARDS = 1000  # more than this is a group: it goes through a job


def stores_for(user):
    return scoped(Store.objects.filter(is_active=True), user=user, store_field="").order_by("code")


def own_store(user) -> Store | None:
    """The store of a staff member bound to one store (the desk redeems there)."""
    profile = StaffProfile.objects.filter(user=user).select_related("store").first()
    if profile is not None and profile.scope == StaffProfile.Scope.STORE:
        return profile.store
    return None


class CouponSendForm(forms.Form):
    AUDIENCE_CARDS = "cards"
    AUDIENCE_SCOPE = "scope"
    AUDIENCE_FILTER = "filter"
    SENDABLE_CHANNELS = [Campaign.Channel.MANUAL, Campaign.Channel.GROUP, Campaign.Channel.RULE]

    template = forms.ModelChoiceField(
        label=_("Coupon"), queryset=CouponTemplate.objects.none(), empty_label=None
    )
    campaign = forms.ModelChoiceField(
        label=_("Campaign"),
        queryset=Campaign.objects.none(),
        required=False,
        empty_label=_("— a new campaign, named below —"),
    )
    campaign_name = forms.CharField(label=_("New campaign"), max_length=100, required=False)
    audience = forms.ChoiceField(
        label=_("Send to"),
        choices=[
            (AUDIENCE_CARDS, _("These cards (issued at once)")),
            (AUDIENCE_SCOPE, _("All members I can see")),
            (AUDIENCE_FILTER, _("Members of a tier and home store")),
        ],
        widget=forms.RadioSelect,
        initial=AUDIENCE_CARDS,
    )
    cards = forms.CharField(
        label=_("Card numbers"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("One card number a line (or separated by spaces or commas), at most 1000."),
    )
    tier = forms.ModelChoiceField(
        label=_("Tier"), queryset=selectors.tiers(), required=False, empty_label=_("Any tier")
    )
    home_store = forms.ModelChoiceField(
        label=_("Home store"), queryset=Store.objects.none(), required=False
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["template"].queryset = selectors.templates_for_sending()
        self.fields["campaign"].queryset = Campaign.objects.filter(
            channel__in=self.SENDABLE_CHANNELS
        ).order_by("-created_at", "-id")
        self.fields["home_store"].queryset = stores_for(user)
        self.fields["home_store"].empty_label = _("Any store I can see")

    @property
    def is_group(self) -> bool:
        return self.cleaned_data.get("audience") != self.AUDIENCE_CARDS

    def clean(self):
        data = super().clean()
        if not data.get("campaign") and not data.get("campaign_name", "").strip():
            self.add_error("campaign_name", _("Choose a campaign or name a new one."))
        audience = data.get("audience")
        if audience == self.AUDIENCE_CARDS:
            self._clean_cards(data)
        elif audience == self.AUDIENCE_FILTER and not (data.get("tier") or data.get("home_store")):
            self.add_error("tier", _("Choose a tier, a home store or both."))
        return data

    def _clean_cards(self, data) -> None:
        parsed = card_nos_parse(data.get("cards", ""))
        if parsed.errors:
            self.add_error("cards", card_list_errors(parsed.errors))
            return
        cards = parsed.cards
        if not cards:
            self.add_error("cards", _("Enter at least one card number."))
            return
        if len(cards) > MAX_CARDS:
            self.add_error(
                "cards",
                _("At most %(max)s card numbers at once; send to a group instead.")
                % {"max": MAX_CARDS},
            )
            return
        found, missing = selectors.members_by_cards(user=self.user, cards=cards)
        if missing:
            self.add_error(
                "cards",
                _("No active member with these card numbers in your stores: %(cards)s")
                % {"cards": ", ".join(missing[:20]) + (" …" if len(missing) > 20 else "")},
            )
            return
        data["member_ids"] = [found[card] for card in cards]


class DeskLookupForm(forms.Form):
    code = forms.CharField(
        label=_("Coupon code"),
        max_length=64,
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "off", "inputmode": "text"}
        ),
    )

    def clean_code(self):
        code = coupon_code_normalise(self.cleaned_data["code"])
        if not code:
            raise forms.ValidationError(_("Enter or scan a coupon code."))
        return code


class DeskRedeemForm(forms.Form):
    """Redeem at the service desk: the store is the staff member's own, or chosen by staff
    who cover several; a coupon other than a gift needs the purchase it is used on."""

    code = forms.CharField(widget=forms.HiddenInput, max_length=64)
    store = forms.ModelChoiceField(
        label=_("Store"), queryset=Store.objects.none(), empty_label=None
    )
    amount = forms.DecimalField(
        label=_("Purchase amount (yuan)"),
        required=False,
        min_value=Decimal("0.01"),
        max_digits=12,
        decimal_places=2,
    )

    def __init__(self, *args, user, needs_amount: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fixed_store = own_store(user)
        if self.fixed_store is not None:
            del self.fields["store"]
        else:
            self.fields["store"].queryset = stores_for(user)
        if not needs_amount:
            del self.fields["amount"]
        else:
            self.fields["amount"].required = True

    def clean_code(self):
        return coupon_code_normalise(self.cleaned_data["code"])

    @property
    def chosen_store(self) -> Store:
        return self.fixed_store or self.cleaned_data["store"]

    @property
    def basket_fen(self) -> int:
        amount = self.cleaned_data.get("amount")
        return int(amount * 100) if amount is not None else 0


class VoidActionForm(ActionForm):
    """The admin's action bar with the reason a void needs."""

    reason = forms.CharField(label=_("Reason for voiding"), max_length=200, required=False)


class CouponTemplateAdminForm(forms.ModelForm):
    """Each kind needs its own figures; the validity is either dates or days after issue."""

    class Meta:
        model = CouponTemplate
        fields = [
            "code",
            "name",
            "kind",
            "face_value_fen",
            "min_spend_fen",
            "percent_off",
            "max_discount_fen",
            "gift_name",
            "valid_from",
            "valid_until",
            "valid_days",
            "stores",
            "floors",
            "brands",
            "categories",
            "per_member_limit",
            "total_quantity",
            "stackable",
            "usage_notes",
            "floors_remark",
            "color",
            "image",
            "is_active",
        ]

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind in (CouponTemplate.Kind.CASH, CouponTemplate.Kind.THRESHOLD) and not data.get(
            "face_value_fen"
        ):
            self.add_error("face_value_fen", _("Give the amount off."))
        if kind == CouponTemplate.Kind.CASH and data.get("min_spend_fen"):
            self.add_error(
                "min_spend_fen", _("A cash voucher has no minimum spend: make it spend-and-save.")
            )
        if kind == CouponTemplate.Kind.THRESHOLD and not data.get("min_spend_fen"):
            self.add_error("min_spend_fen", _("A spend-and-save coupon needs a minimum spend."))
        if kind == CouponTemplate.Kind.PERCENT and not data.get("percent_off"):
            self.add_error("percent_off", _("Give the percentage off."))
        if kind == CouponTemplate.Kind.GIFT and not data.get("gift_name"):
            self.add_error("gift_name", _("Name the gift."))
        days, start, end = data.get("valid_days"), data.get("valid_from"), data.get("valid_until")
        if days is None and not (start and end):
            self.add_error("valid_days", _("Give either days after issue or both dates."))
        if start and end and end <= start:
            self.add_error("valid_until", _("The end must come after the start."))
        return data
