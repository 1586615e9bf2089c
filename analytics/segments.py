"""The member filter (会员列表 / 筛选会员): parameters → a queryset of members.

The parameters are a plain JSON-safe dict, so a saved group (analytics.MemberGroup.params)
and a rule tag (analytics.Tag.rule) keep exactly what the list page filtered by; the list's
form (MemberFilterForm) turns them into GET fields and back. Every filter runs in Postgres;
the staff member's data scope always applies. Money is fen in the parameters, yuan in the
form; dates are ISO strings (Shanghai dates, both ends inclusive).

Keys understood (all optional; all of them must hold):
    tier: int (Tier id)                     rfm_class: str (label in the current snapshot)
    lifecycle_stage: str (LifecycleStage)   rfm_f_high: bool (F above the snapshot's cut)
    clv_value_min_fen / clv_value_max_fen: int, expected value of the next 365 days in the
        current predicted value run;        clv_p_alive_below: float (strictly below)
    gender: "M" | "F" | "U"                 age_min / age_max: int (years, from birthday)
    region: int (home store's Region id)    home_store: int (Store id)
    registered_from / registered_to: date   channel: str (registration channel code)
    last_purchase_from / last_purchase_to: date (the member's latest sale receipt)
    spend_min_fen / spend_max_fen: int, sales minus refunds over the last `spend_days` days,
        or without spend_days the current RFM snapshot's monetary (its window)
    points_min / points_max: int (balance)  tags: [int] (Tag ids, any of; `tag`: one id)
    bought_sku: str (SKU code) / bought_brand: int / bought_category: int (the category or
        its sub-categories), each within the last `bought_days` days (default 365)
    group: int (MemberGroup id: its members now)
"""

from datetime import date, timedelta
from decimal import Decimal

from django import forms
from django.db.models import BigIntegerField, Case, Exists, F, OuterRef, Q, QuerySet, Sum, When
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from analytics.models import (
    ClvRun,
    ClvScore,
    GroupMember,
    LifecycleStage,
    MemberGroup,
    MemberTag,
    RfmClass,
    RfmRow,
    RfmSettings,
    RfmSnapshot,
    Tag,
)
from core.dates import local_day_start
from core.exceptions import ServiceError
from core.money import fen_to_yuan
from loyalty.models import Receipt, ReceiptLine, Tier
from members.models import Member, RegistrationChannel
from members.scoping import scoped_members
from stores.models import Brand, Category, Region, Store

BOUGHT_DAYS_DEFAULT = 365


class FilterInvalid(ServiceError):
    """Saved filter parameters that no longer hold (a deleted tag, a bad range)."""

    code = "filter_invalid"

    def __init__(self, errors: dict):
        self.errors = errors
        detail = "; ".join(f"{k}: {' '.join(str(m) for m in v)}" for k, v in errors.items())
        super().__init__(_("The member filter is not valid: %(detail)s"), params={"detail": detail})


def _yuan(**kwargs):
    return forms.DecimalField(
        required=False, min_value=Decimal(0), max_digits=14, decimal_places=2, **kwargs
    )


def _days(**kwargs):
    return forms.IntegerField(required=False, min_value=1, max_value=3650, **kwargs)


class MemberFilterForm(forms.Form):
    """The list's filters (GET). `params()` gives the JSON-safe parameters of what was
    filled in; `MemberFilterForm.from_params(params)` the form again (a saved group reopened)."""

    tier = forms.ModelChoiceField(Tier.objects.all(), required=False, label=_("Tier"))
    rfm_class = forms.ChoiceField(required=False, label=_("RFM class"))
    lifecycle_stage = forms.ChoiceField(
        required=False,
        label=_("Lifecycle stage"),
        choices=[("", "---------"), *LifecycleStage.choices],
    )
    rfm_f_high = forms.BooleanField(required=False, label=_("Frequency above the RFM cut"))
    clv_value_min = _yuan(label=_("Expected value from (yuan)"))
    clv_value_max = _yuan(label=_("Expected value up to (yuan)"))
    clv_p_alive_below = forms.DecimalField(
        required=False,
        min_value=Decimal(0),
        max_value=Decimal(1),
        decimal_places=3,
        label=_("Probability active below"),
    )
    gender = forms.ChoiceField(
        required=False, label=_("Gender"), choices=[("", "---------"), *Member.Gender.choices]
    )
    age_min = forms.IntegerField(required=False, min_value=0, max_value=120, label=_("Age from"))
    age_max = forms.IntegerField(required=False, min_value=0, max_value=120, label=_("Age up to"))
    region = forms.ModelChoiceField(Region.objects.all(), required=False, label=_("Region"))
    home_store = forms.ModelChoiceField(Store.objects.all(), required=False, label=_("Home store"))
    registered_from = forms.DateField(required=False, label=_("Registered from"))
    registered_to = forms.DateField(required=False, label=_("Registered until"))
    channel = forms.ChoiceField(required=False, label=_("Registration channel"))
    last_purchase_from = forms.DateField(required=False, label=_("Last purchase from"))
    last_purchase_to = forms.DateField(required=False, label=_("Last purchase until"))
    spend_min = _yuan(label=_("Spend from (yuan)"))
    spend_max = _yuan(label=_("Spend up to (yuan)"))
    spend_days = _days(
        label=_("Spend over the last days"),
        help_text=_("Empty: the RFM snapshot's window."),
    )
    points_min = forms.IntegerField(required=False, min_value=0, label=_("Points from"))
    points_max = forms.IntegerField(required=False, min_value=0, label=_("Points up to"))
    tags = forms.ModelMultipleChoiceField(
        Tag.objects.all(), required=False, label=_("Tags (any of)")
    )
    bought_sku = forms.CharField(required=False, max_length=32, label=_("Bought SKU (code)"))
    bought_brand = forms.ModelChoiceField(
        Brand.objects.all(), required=False, label=_("Bought brand")
    )
    bought_category = forms.ModelChoiceField(
        Category.objects.all(), required=False, label=_("Bought category")
    )
    bought_days = _days(label=_("Bought within the last days"), help_text=_("Default 365."))
    group = forms.ModelChoiceField(
        MemberGroup.objects.all(), required=False, label=_("Member group")
    )

    # Form fields whose parameter differs: yuan in the form, fen in the parameters
    FEN_FIELDS = {"clv_value_min": "clv_value_min_fen", "clv_value_max": "clv_value_max_fen"}
    FEN_FIELDS |= {"spend_min": "spend_min_fen", "spend_max": "spend_max_fen"}
    RANGES = [
        ("clv_value_min", "clv_value_max"),
        ("age_min", "age_max"),
        ("registered_from", "registered_to"),
        ("last_purchase_from", "last_purchase_to"),
        ("spend_min", "spend_max"),
        ("points_min", "points_max"),
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rfm_class"].choices = [("", "---------")] + [
            (label, label) for label in rfm_class_labels()
        ]
        self.fields["channel"].choices = [("", "---------")] + [
            (c.code, c.name) for c in RegistrationChannel.objects.all()
        ]
        self.fields["tags"].widget.attrs["size"] = 4
        for name in ("registered_from", "registered_to", "last_purchase_from", "last_purchase_to"):
            self.fields[name].widget.input_type = "date"

    def clean(self):
        data = super().clean()
        for low, high in self.RANGES:
            if data.get(low) is not None and data.get(high) is not None and data[low] > data[high]:
                self.add_error(high, _("The end of a range cannot come before its start."))
        if data.get("bought_days") and not self._bought(data):
            self.add_error("bought_days", _("Say what was bought: a SKU, a brand or a category."))
        spend = data.get("spend_min") is not None or data.get("spend_max") is not None
        if data.get("spend_days") and not spend:
            self.add_error("spend_days", _("Give a spend range for the period."))
        return data

    @staticmethod
    def _bought(data) -> bool:
        return bool(
            data.get("bought_sku") or data.get("bought_brand") or data.get("bought_category")
        )

    def params(self) -> dict:
        """The JSON-safe parameters of a valid form (empty fields left out)."""
        params = {}
        for name, value in self.cleaned_data.items():
            if value is None or value is False or value == "" or (name == "tags" and not value):
                continue
            if name in self.FEN_FIELDS:
                params[self.FEN_FIELDS[name]] = int((value * 100).to_integral_value())
            elif isinstance(value, date):
                params[name] = value.isoformat()
            elif name == "tags":
                params[name] = sorted(tag.pk for tag in value)
            elif hasattr(value, "pk"):
                params[name] = value.pk
            elif isinstance(value, Decimal):
                params[name] = float(value)
            else:
                params[name] = value
        return params

    @classmethod
    def from_params(cls, params: dict, **kwargs) -> "MemberFilterForm":
        return cls(params_as_data(params), **kwargs)


def params_as_data(params: dict) -> dict:
    """Form data (GET fields) of saved parameters: fen back to yuan, `tag` as `tags`."""
    fen_keys = {fen: name for name, fen in MemberFilterForm.FEN_FIELDS.items()}
    data = {}
    for key, value in (params or {}).items():
        if key in fen_keys:
            data[fen_keys[key]] = str(Decimal(int(value)) / 100) if _is_int(value) else value
        elif key == "tag":
            data.setdefault("tags", []).append(value)
        elif key == "tags":
            data.setdefault("tags", []).extend(value if isinstance(value, list) else [value])
        elif isinstance(value, bool):
            data[key] = "on" if value else ""
        else:
            data[key] = value
    return data


def params_querystring(params: dict) -> str:
    """The list page's query string for `params` (a group opened in the list)."""
    from urllib.parse import urlencode

    return urlencode(params_as_data(params), doseq=True)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def params_clean(params: dict) -> dict:
    """`params` checked through the form, normalised; FilterInvalid if they do not hold."""
    form = MemberFilterForm.from_params(params)
    if not form.is_valid():
        raise FilterInvalid({k: list(v) for k, v in form.errors.items()})
    return form.params()


def rfm_class_labels() -> list[str]:
    """The class labels of the current snapshot's naming (or the naming in use)."""
    snapshot = RfmSnapshot.objects.filter(is_current=True).only("preset_id").first()
    preset_id = snapshot.preset_id if snapshot else RfmSettings.current().preset_id
    return list(RfmClass.objects.filter(preset_id=preset_id).values_list("label", flat=True))


# --- Applying the parameters ----------------------------------------------------------------


def _current_rows():
    # the id as a constant, not a sub-select: the planner then uses the (snapshot, …) indexes
    snapshot = RfmSnapshot.objects.filter(is_current=True).values_list("pk", flat=True).first()
    return RfmRow.objects.filter(snapshot_id=snapshot)


def _current_scores():
    run = ClvRun.objects.filter(is_current=True).values_list("pk", flat=True).first()
    return ClvScore.objects.filter(run_id=run)


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _day(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _between(queryset: QuerySet, field: str, low, high) -> QuerySet:
    if low is not None:
        queryset = queryset.filter(**{f"{field}__gte": low})
    if high is not None:
        queryset = queryset.filter(**{f"{field}__lte": high})
    return queryset


def _zero_in(low, high) -> bool:
    return (low is None or low <= 0) and (high is None or high >= 0)


def _sales_of_member():
    return Receipt.objects.filter(kind=Receipt.Kind.SALE, member=OuterRef("pk"))


def members_matching(params: dict, members: QuerySet) -> QuerySet:
    """`members` narrowed by every filter of (clean) `params`; no scope applied here."""
    p = params
    today = timezone.localdate()
    if p.get("tier"):
        members = members.filter(points_account__tier_id=p["tier"])
    if p.get("rfm_class"):
        rows = _current_rows().filter(rfm_class=p["rfm_class"])
        members = members.filter(pk__in=rows.values("member_id"))
    if p.get("lifecycle_stage"):
        rows = _current_rows().filter(lifecycle_stage=p["lifecycle_stage"])
        members = members.filter(pk__in=rows.values("member_id"))
    if p.get("rfm_f_high"):
        members = members.filter(pk__in=_current_rows().filter(f_high=True).values("member_id"))
    clv_keys = ("clv_value_min_fen", "clv_value_max_fen", "clv_p_alive_below")
    if any(p.get(k) is not None for k in clv_keys):
        scores = _between(
            _current_scores(),
            "expected_value_fen",
            p.get("clv_value_min_fen"),
            p.get("clv_value_max_fen"),
        )
        if p.get("clv_p_alive_below") is not None:
            scores = scores.filter(p_alive__lt=p["clv_p_alive_below"])
        members = members.filter(pk__in=scores.values("member_id"))
    if p.get("gender"):
        members = members.filter(gender=p["gender"])
    if p.get("age_min") is not None:
        members = members.filter(birthday__lte=_years_before(today, p["age_min"]))
    if p.get("age_max") is not None:
        members = members.filter(birthday__gt=_years_before(today, p["age_max"] + 1))
    if p.get("region"):
        members = members.filter(home_store__region_id=p["region"])
    if p.get("home_store"):
        members = members.filter(home_store_id=p["home_store"])
    if p.get("registered_from"):
        members = members.filter(registered_at__gte=local_day_start(_day(p["registered_from"])))
    if p.get("registered_to"):
        end = local_day_start(_day(p["registered_to"]) + timedelta(1))
        members = members.filter(registered_at__lt=end)
    if p.get("channel"):
        members = members.filter(channel=p["channel"])
    members = _last_purchase(members, p)
    members = _spend(members, p, today)
    if p.get("points_min") is not None or p.get("points_max") is not None:
        low, high = p.get("points_min"), p.get("points_max")
        in_range = Q(
            pk__in=_between(
                Member.objects.filter(points_account__isnull=False),
                "points_account__balance",
                low,
                high,
            ).values("pk")
        )
        if _zero_in(low, high):  # no account yet: a balance of 0
            in_range |= Q(points_account__isnull=True)
        members = members.filter(in_range)
    tags = list(p.get("tags") or []) + ([p["tag"]] if p.get("tag") else [])
    if tags:
        members = members.filter(
            pk__in=MemberTag.objects.filter(tag_id__in=tags).values("member_id")
        )
    members = _bought(members, p, today)
    if p.get("group"):
        members = members.filter(pk__in=group_members_matching(p["group"]).values("pk"))
    return members


def _last_purchase(members: QuerySet, p: dict) -> QuerySet:
    """The latest sale receipt in [from, to]: one on or after `from`, none after `to`; each an
    EXISTS probe on the receipts' (member, -occurred_at) index."""
    if p.get("last_purchase_from"):
        start = local_day_start(_day(p["last_purchase_from"]))
        members = members.filter(Exists(_sales_of_member().filter(occurred_at__gte=start)))
    if p.get("last_purchase_to"):
        end = local_day_start(_day(p["last_purchase_to"]) + timedelta(1))
        members = members.filter(Exists(_sales_of_member().filter(occurred_at__lt=end)))
        members = members.filter(~Exists(_sales_of_member().filter(occurred_at__gte=end)))
    return members


def _spend(members: QuerySet, p: dict, today: date) -> QuerySet:
    low, high = p.get("spend_min_fen"), p.get("spend_max_fen")
    if low is None and high is None:
        return members
    if p.get("spend_days"):
        start = local_day_start(today - timedelta(p["spend_days"] - 1))
        period = Receipt.objects.filter(member__isnull=False, occurred_at__gte=start)
        net = Sum(
            Case(
                When(kind=Receipt.Kind.REFUND, then=-F("total_fen")),
                default=F("total_fen"),
                output_field=BigIntegerField(),
            )
        )
        spenders = _between(period.values("member_id").annotate(net=net), "net", low, high)
        in_range = Q(pk__in=spenders.values("member_id"))
        if _zero_in(low, high):
            in_range |= ~Exists(period.filter(member=OuterRef("pk")))
    else:
        rows = _between(_current_rows(), "monetary_fen", low, high)
        in_range = Q(pk__in=rows.values("member_id"))
        if _zero_in(low, high):  # not in the snapshot: no purchase in its window
            in_range |= ~Exists(_current_rows().filter(member=OuterRef("pk")))
    return members.filter(in_range)


def _category_ids(category_id: int) -> list[int]:
    """The category and its sub-categories (two levels: departments and their leaves)."""
    children = Category.objects.filter(parent_id=category_id).values_list("pk", flat=True)
    return [category_id, *children]


def _bought(members: QuerySet, p: dict, today: date) -> QuerySet:
    wanted = {
        "bought_sku": lambda v: Q(sku_code=v),
        "bought_brand": lambda v: Q(brand_id=v),
        "bought_category": lambda v: Q(category_id__in=_category_ids(v)),
    }
    days = p.get("bought_days") or BOUGHT_DAYS_DEFAULT
    start = local_day_start(today - timedelta(days - 1))
    for key, condition in wanted.items():
        if not p.get(key):
            continue
        lines = ReceiptLine.objects.filter(
            condition(p[key]),
            receipt__kind=Receipt.Kind.SALE,
            receipt__occurred_at__gte=start,
            receipt__member__isnull=False,
        )
        members = members.filter(pk__in=lines.values("receipt__member_id"))
    return members


def members_active() -> QuerySet:
    return Member.objects.filter(status=Member.Status.ACTIVE)


def members_filtered(params: dict, *, user) -> QuerySet:
    """Active members in `user`'s scope matching every filter of `params`; FilterInvalid if
    the parameters do not hold (checked through MemberFilterForm)."""
    members = scoped_members(members_active(), user=user)
    return members_matching(params_clean(params), members)


# --- Describing the parameters (group and tag pages) ------------------------------------------


def _name_of(model, pk) -> str:
    obj = model.objects.filter(pk=pk).first()
    return str(obj) if obj is not None else gettext("#%(id)s (deleted)") % {"id": pk}


def _range(low, high, show=str) -> str:
    if low is not None and high is not None:
        return gettext("%(low)s to %(high)s") % {"low": show(low), "high": show(high)}
    if low is not None:
        return gettext("from %(low)s") % {"low": show(low)}
    return gettext("up to %(high)s") % {"high": show(high)}


def _money(fen) -> str:
    return "¥" + fen_to_yuan(int(fen))


def params_describe(params: dict) -> list[str]:
    """One line in words per filter of `params` (an empty filter: every active member)."""
    p = params or {}
    lines = []

    def has(*keys):
        return any(p.get(k) not in (None, "", [], False) for k in keys)

    if has("tier"):
        lines.append(gettext("Tier: %(v)s") % {"v": _name_of(Tier, p["tier"])})
    if has("rfm_class"):
        lines.append(gettext("RFM class: %(v)s") % {"v": p["rfm_class"]})
    if has("lifecycle_stage"):
        stage = dict(LifecycleStage.choices).get(p["lifecycle_stage"], p["lifecycle_stage"])
        lines.append(gettext("Lifecycle stage: %(v)s") % {"v": stage})
    if has("rfm_f_high"):
        lines.append(gettext("Purchase frequency above the RFM cut"))
    if has("clv_value_min_fen", "clv_value_max_fen"):
        value = _range(p.get("clv_value_min_fen"), p.get("clv_value_max_fen"), _money)
        lines.append(gettext("Expected value, next 365 days: %(v)s") % {"v": value})
    if has("clv_p_alive_below"):
        lines.append(
            gettext("Probability still active below %(v)s") % {"v": p["clv_p_alive_below"]}
        )
    if has("gender"):
        lines.append(gettext("Gender: %(v)s") % {"v": dict(Member.Gender.choices).get(p["gender"])})
    if has("age_min", "age_max"):
        lines.append(gettext("Age: %(v)s") % {"v": _range(p.get("age_min"), p.get("age_max"))})
    if has("region"):
        lines.append(gettext("Region: %(v)s") % {"v": _name_of(Region, p["region"])})
    if has("home_store"):
        lines.append(gettext("Home store: %(v)s") % {"v": _name_of(Store, p["home_store"])})
    if has("registered_from", "registered_to"):
        when = _range(p.get("registered_from"), p.get("registered_to"))
        lines.append(gettext("Registered: %(v)s") % {"v": when})
    if has("channel"):
        lines.append(gettext("Registration channel: %(v)s") % {"v": p["channel"]})
    if has("last_purchase_from", "last_purchase_to"):
        when = _range(p.get("last_purchase_from"), p.get("last_purchase_to"))
        lines.append(gettext("Last purchase: %(v)s") % {"v": when})
    if has("spend_min_fen", "spend_max_fen"):
        spend = _range(p.get("spend_min_fen"), p.get("spend_max_fen"), _money)
        if p.get("spend_days"):
            lines.append(
                gettext("Spend in the last %(days)s days: %(v)s")
                % {"days": p["spend_days"], "v": spend}
            )
        else:
            lines.append(gettext("Spend in the RFM window: %(v)s") % {"v": spend})
    if has("points_min", "points_max"):
        points = _range(p.get("points_min"), p.get("points_max"))
        lines.append(gettext("Points balance: %(v)s") % {"v": points})
    tags = list(p.get("tags") or []) + ([p["tag"]] if p.get("tag") else [])
    if tags:
        names = "、".join(_name_of(Tag, pk) for pk in tags)
        lines.append(gettext("Tagged (any of): %(v)s") % {"v": names})
    days = p.get("bought_days") or BOUGHT_DAYS_DEFAULT
    bought = [
        ("bought_sku", lambda v: gettext("SKU %(v)s") % {"v": v}),
        ("bought_brand", lambda v: gettext("brand %(v)s") % {"v": _name_of(Brand, v)}),
        ("bought_category", lambda v: gettext("category %(v)s") % {"v": _name_of(Category, v)}),
    ]
    for key, what in bought:
        if has(key):
            lines.append(
                gettext("Bought %(what)s in the last %(days)s days")
                % {"what": what(p[key]), "days": days}
            )
    if has("group"):
        lines.append(
            gettext("Members of the group %(v)s") % {"v": _name_of(MemberGroup, p["group"])}
        )
    return lines or [gettext("Every active member")]


def group_members_matching(group_id: int) -> QuerySet:
    """Every active member of the group, unscoped (the member filter's `group` key, under
    the scope its caller applies)."""
    group = MemberGroup.objects.filter(pk=group_id).first()
    if group is None:
        return Member.objects.none()
    if group.kind == MemberGroup.Kind.DYNAMIC:
        return members_matching(params_clean(group.params), members_active())
    saved = GroupMember.objects.filter(group=group).values("member_id")
    return members_active().filter(pk__in=saved)
