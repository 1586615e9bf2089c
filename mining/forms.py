from datetime import timedelta
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from analytics.forms import GroupActionForm
from analytics.models import LifecycleStage, RfmClass, RfmSettings, RfmSnapshot
from loyalty.models import Tier
from members.models import Member
from mining.models import Algorithm, Level, MiningRun, MiningSettings
from mining.segments import age_band_choices, segment_label, segment_params
from stores.models import Region, Store
from stores.scoping import scoped, store_lookups

BLANK = [("", "---------")]


class DateInput(forms.DateInput):
    """A browser date picker: it takes ISO dates only, whatever the language."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


DATE = DateInput


def _ratio(label, *, required=True, initial=None, minimum=Decimal(0), help_text=""):
    return forms.DecimalField(
        label=label,
        required=required,
        initial=initial,
        min_value=minimum,
        max_value=Decimal(1),
        decimal_places=5,
        help_text=help_text,
    )


class SegmentFields(forms.Form):
    """A member segment: the analytics member filter's parameters (mining/segments.py)."""

    gender = forms.ChoiceField(
        label=_("Gender"), required=False, choices=BLANK + list(Member.Gender.choices)
    )
    age_band = forms.ChoiceField(label=_("Age band"), required=False)
    tier = forms.ModelChoiceField(
        Tier.objects.order_by("threshold"), label=_("Tier"), required=False
    )
    rfm_class = forms.ChoiceField(label=_("RFM class"), required=False)
    lifecycle_stage = forms.ChoiceField(
        label=_("Lifecycle stage"), required=False, choices=BLANK + list(LifecycleStage.choices)
    )
    region = forms.ModelChoiceField(Region.objects.all(), label=_("Region"), required=False)

    SEGMENT_FIELDS = ["gender", "age_band", "tier", "rfm_class", "lifecycle_stage", "region"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["age_band"].choices = BLANK + age_band_choices()
        self.fields["rfm_class"].choices = BLANK + [(c, c) for c in _rfm_class_labels()]

    def segment(self) -> dict:
        data = self.cleaned_data
        return segment_params(**{name: data.get(name) or None for name in self.SEGMENT_FIELDS})


def _rfm_class_labels() -> list[str]:
    snapshot = RfmSnapshot.objects.filter(is_current=True).only("preset_id").first()
    preset_id = snapshot.preset_id if snapshot else RfmSettings.current().preset_id
    return list(RfmClass.objects.filter(preset_id=preset_id).values_list("label", flat=True))


class RunStartForm(SegmentFields):
    """Start a run now: the nightly run's parameters, a window, a store and a segment."""

    level = forms.ChoiceField(label=_("Item level"), choices=Level.choices, initial=Level.SKU)
    algorithm = forms.ChoiceField(
        label=_("Algorithm"), choices=Algorithm.choices, initial=Algorithm.FPGROWTH
    )
    min_support = _ratio(_("Minimum support"), initial=Decimal("0.01"), minimum=Decimal("0.00001"))
    min_confidence = _ratio(_("Minimum confidence"), initial=Decimal("0.3"))
    min_lift = forms.DecimalField(
        label=_("Minimum lift"), min_value=Decimal(0), decimal_places=3, initial=Decimal(1)
    )
    max_len = forms.IntegerField(
        label=_("Longest itemset"), min_value=2, max_value=10, initial=3, required=False
    )
    since = forms.DateField(label=_("From"), required=False, widget=DATE())
    until = forms.DateField(label=_("Until"), required=False, widget=DATE())
    store = forms.ModelChoiceField(
        Store.objects.none(), label=_("Store"), required=False, empty_label=_("All stores")
    )
    keep_single_item_baskets = forms.BooleanField(
        label=_("Keep single-item baskets"),
        required=False,
        help_text=_("By default receipts with one item are left out, as the deck says."),
    )
    several_consequents = forms.BooleanField(
        label=_("Rules may end in several items"),
        required=False,
        help_text=_("By default each rule ends in one item (the usual convention, arules')."),
    )

    field_order = [
        "level",
        "algorithm",
        "min_support",
        "min_confidence",
        "min_lift",
        "max_len",
        "since",
        "until",
        "store",
        "keep_single_item_baskets",
        "several_consequents",
    ]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["store"].queryset = scoped(
            Store.objects.filter(is_active=True), user=user, store_field=""
        ).order_by("code")
        if store_lookups(user):  # a region or a store: runs stay within its stores
            self.fields["store"].required = True
            self.fields["store"].empty_label = None
        if not self.is_bound:
            today = timezone.localdate()
            self.initial.setdefault("since", today - timedelta(days=90))
            self.initial.setdefault("until", today)

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", _("The end of a range cannot come before its start."))
        return data

    def run_parameters(self) -> dict:
        """Keyword arguments of mining_run_create."""
        data = self.cleaned_data
        segment = self.segment()
        return {
            "level": data["level"],
            "algorithm": data["algorithm"],
            "min_support": float(data["min_support"]),
            "min_confidence": float(data["min_confidence"]),
            "min_lift": float(data["min_lift"]),
            "max_len": data.get("max_len"),
            "keep_single_item_baskets": data["keep_single_item_baskets"],
            "single_consequent": not data["several_consequents"],
            "since": data.get("since"),
            "until": data.get("until"),
            "store": data.get("store"),
            "segment": segment,
            "segment_label": segment_label(segment),
        }


class MiningSettingsForm(forms.ModelForm):
    class Meta:
        model = MiningSettings
        fields = [
            "nightly_enabled",
            "level",
            "algorithm",
            "window_days",
            "min_support",
            "min_confidence",
            "min_lift",
            "max_len",
            "max_basket_items",
        ]

    def clean_min_support(self):
        value = self.cleaned_data["min_support"]
        if not 0 < value <= 1:
            raise forms.ValidationError(_("Minimum support must be above 0 and at most 1."))
        return value

    def clean_min_confidence(self):
        value = self.cleaned_data["min_confidence"]
        if not 0 <= value <= 1:
            raise forms.ValidationError(_("Minimum confidence must be between 0 and 1."))
        return value

    def clean_min_lift(self):
        value = self.cleaned_data["min_lift"]
        if value < 0:
            raise forms.ValidationError(_("Minimum lift cannot be negative."))
        return value

    def clean_max_len(self):
        value = self.cleaned_data["max_len"]
        if value < 2:
            raise forms.ValidationError(_("The longest itemset must hold at least 2 items."))
        return value

    def clean_max_basket_items(self):
        value = self.cleaned_data["max_basket_items"]
        if value < 2:
            raise forms.ValidationError(_("A basket of fewer than 2 items holds no rule."))
        return value

    def clean_window_days(self):
        value = self.cleaned_data["window_days"]
        if value < 1:
            raise forms.ValidationError(_("The window must be at least one day."))
        return value


SORTS = ["lift", "confidence", "support", "leverage", "conviction", "count"]


class RuleFilterForm(forms.Form):
    """The rule browser's filters (GET)."""

    SIDES = [
        ("any", _("either side")),
        ("antecedent", _("If bought")),
        ("consequent", _("Then also")),
    ]

    item = forms.CharField(label=_("Item"), required=False, max_length=64)
    side = forms.ChoiceField(label=_("Where"), choices=SIDES, required=False)
    min_support = _ratio(_("Support at least"), required=False)
    min_confidence = _ratio(_("Confidence at least"), required=False)
    min_lift = forms.DecimalField(
        label=_("Lift at least"), required=False, min_value=Decimal(0), decimal_places=3
    )
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("lift", _("lift")),
            ("confidence", _("confidence")),
            ("support", _("support")),
            ("leverage", _("leverage")),
            ("conviction", _("conviction")),
            ("count", _("baskets with both")),
        ],
    )
    order = forms.ChoiceField(
        label=_("Order"),
        required=False,
        choices=[("desc", _("highest first")), ("asc", _("lowest first"))],
    )

    def filters(self) -> dict:
        """Keyword arguments of selectors.rules_browse (a valid form)."""
        data = self.cleaned_data
        return {
            "item": data.get("item", "").strip(),
            "side": data.get("side") or "any",
            "min_support": _float(data.get("min_support")),
            "min_confidence": _float(data.get("min_confidence")),
            "min_lift": _float(data.get("min_lift")),
            "sort": data.get("sort") or "lift",
            "descending": (data.get("order") or "desc") == "desc",
        }


def _float(value):
    return None if value is None else float(value)


class BundleForm(forms.Form):
    """The bundle list's thresholds (GET)."""

    min_support = _ratio(_("Support at least"), required=False, initial=Decimal("0.01"))
    min_confidence = _ratio(_("Confidence at least"), required=False, initial=Decimal("0.2"))

    def thresholds(self) -> dict:
        data = self.cleaned_data if self.is_bound else {}
        support, confidence = data.get("min_support"), data.get("min_confidence")
        return {
            "min_support": float(support if support is not None else Decimal("0.01")),
            "min_confidence": float(confidence if confidence is not None else Decimal("0.2")),
        }


class CompareForm(forms.Form):
    """Two done runs of one item level (GET)."""

    a = forms.ModelChoiceField(MiningRun.objects.none(), label=_("Run A"))
    b = forms.ModelChoiceField(MiningRun.objects.none(), label=_("Run B"))

    def __init__(self, *args, runs, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("a", "b"):
            self.fields[name].queryset = runs
            self.fields[name].label_from_instance = run_choice_label

    def clean(self):
        data = super().clean()
        a, b = data.get("a"), data.get("b")
        if a and b:
            if a.pk == b.pk:
                self.add_error("b", _("Pick two different runs."))
            elif a.level != b.level:
                self.add_error("b", _("Both runs must be mined at the same item level."))
        return data


def run_choice_label(run: MiningRun) -> str:
    segment = run.segment_label or str(_("All members"))
    if run.store_id:
        segment = f"{segment} · {run.store.name}"
    created = timezone.localtime(run.created_at).strftime("%Y-%m-%d %H:%M")
    return f"#{run.pk} {run.get_level_display()} · {segment} · {created}"


class BehaviourForm(forms.Form):
    """The consumer behaviour page's period (GET); both ends inclusive, Shanghai days."""

    since = forms.DateField(label=_("From"), required=False, widget=DATE())
    until = forms.DateField(label=_("Until"), required=False, widget=DATE())

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", _("The end of a range cannot come before its start."))
        return data

    def period(self):
        today = timezone.localdate()
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        until = data.get("until") or today
        since = data.get("since") or until - timedelta(days=364)
        return since, until


class RuleCampaignForm(GroupActionForm):
    """A rule's campaign: the coupon action's fields and how far back A was bought."""

    lookback_days = forms.IntegerField(
        label=_("Bought A within (days)"),
        initial=30,
        min_value=1,
        max_value=365,
        help_text=_("Members who bought A in this many days, and not B, receive B's coupon."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, kind="coupon", **kwargs)
        self.order_fields(["name", "coupon_template", "lookback_days"])
