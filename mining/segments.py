"""Member segments a run can be mined over, and the consumer behaviour page's segments.

A run's segment is the analytics member filter's parameters (analytics/segments.py
`members_filtered`): gender, age_min/age_max (years today), tier, rfm_class,
lifecycle_stage, region. Age bands are the member statistics' bands, so a band on the
behaviour page and a mined segment mean the same members.
"""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

# (first age, last age or None), youngest first
AGE_BANDS: list[tuple[int, int | None]] = [
    (0, 17),
    (18, 24),
    (25, 34),
    (35, 44),
    (45, 54),
    (55, 64),
    (65, None),
]


def age_band_code(band: tuple[int, int | None]) -> str:
    low, high = band
    return f"{low}-{high}" if high is not None else f"{low}+"


def age_band_label(band: tuple[int, int | None]) -> str:
    low, high = band
    if high is None:
        return gettext("%(low)s and over") % {"low": low}
    return f"{low}–{high}"


_AGE_BY_CODE = {age_band_code(b): b for b in AGE_BANDS}


def age_band_choices() -> list[tuple[str, str]]:
    return [(age_band_code(b), age_band_label(b)) for b in AGE_BANDS]


def age_band_of_params(params: dict) -> str:
    """The band code of a segment's age_min/age_max ("" when they are no band)."""
    for code, (low, high) in _AGE_BY_CODE.items():
        if params.get("age_min") == low and params.get("age_max") == high:
            return code
    return ""


def segment_params(
    *,
    gender: str = "",
    age_band: str = "",
    tier=None,
    rfm_class: str = "",
    lifecycle_stage: str = "",
    region=None,
) -> dict:
    """The member filter's parameters of a segment (empty choices left out), in one order, so
    equal segments give equal dicts (runs are found by their segment)."""
    params: dict = {}
    if gender:
        params["gender"] = gender
    if age_band:
        low, high = _AGE_BY_CODE[age_band]
        params["age_min"] = low
        if high is not None:
            params["age_max"] = high
    if tier is not None:
        params["tier"] = tier.pk
    if rfm_class:
        params["rfm_class"] = rfm_class
    if lifecycle_stage:
        params["lifecycle_stage"] = lifecycle_stage
    if region is not None:
        params["region"] = region.pk
    return params


def segment_label(params: dict) -> str:
    """The segment in words, e.g. "女 · 25–34岁 · 金卡" ("" for all members)."""
    from analytics.models import LifecycleStage
    from loyalty.models import Tier
    from members.models import Member
    from stores.models import Region

    parts = []
    if params.get("gender"):
        parts.append(str(dict(Member.Gender.choices).get(params["gender"], params["gender"])))
    if "age_min" in params or "age_max" in params:
        low, high = params.get("age_min") or 0, params.get("age_max")
        if high is None:
            parts.append(gettext("aged %(low)s and over") % {"low": low})
        else:
            parts.append(gettext("aged %(low)s–%(high)s") % {"low": low, "high": high})
    if params.get("tier"):
        tier = Tier.objects.filter(pk=params["tier"]).values_list("name", flat=True).first()
        parts.append(tier or "?")
    if params.get("rfm_class"):
        parts.append(params["rfm_class"])
    if params.get("lifecycle_stage"):
        stage = dict(LifecycleStage.choices).get(params["lifecycle_stage"])
        parts.append(str(stage or params["lifecycle_stage"]))
    if params.get("region"):
        region = Region.objects.filter(pk=params["region"]).values_list("name", flat=True).first()
        parts.append(region or "?")
    return " · ".join(parts)


ALL_MEMBERS = _("All members")
