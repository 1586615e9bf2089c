"""Back-office forms of the floor guide: a floor's fields, its plan image, markers and shop
rectangles. Bounds a plan sets are checked here for a readable error next to the field; the
services in stores/floor_plans.py check them again."""

from django import forms
from django.core.validators import MaxValueValidator
from django.utils.translation import gettext_lazy as _

from stores.floor_plans import KIND_LABELS
from stores.models import Category, Floor, FloorMarker, Shop


def _labelled(form) -> None:
    """The row forms of the editor's tables show no <label>: name each input for readers."""
    for field in form.fields.values():
        field.widget.attrs.setdefault("aria-label", str(field.label))


class FloorForm(forms.ModelForm):
    class Meta:
        model = Floor
        fields = ["code", "name", "order", "description", "categories", "plan_aspect"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2}),
            "categories": forms.SelectMultiple(attrs={"size": 8}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["categories"].queryset = Category.objects.order_by("division", "code")
        self.fields["categories"].help_text = _("Hold Ctrl (⌘ on a Mac) to choose several.")
        self.fields["code"].widget.attrs["size"] = 8


class PlanUploadForm(forms.Form):
    # A FileField, not an ImageField: core.photos' checks in the service decide what a
    # picture is, and say why one is refused.
    plan = forms.FileField(label=_("Plan image"), help_text=_("JPEG or PNG, at most 8 MB."))


class MarkerForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=[("", "---------"), *KIND_LABELS.items()])
    label = forms.CharField(label=_("Label"), max_length=32, required=False)
    shop = forms.ModelChoiceField(label=_("Shop"), queryset=Shop.objects.none(), required=False)
    x = forms.IntegerField(label=_("x (across, 0–1000)"), min_value=0, max_value=1000)
    y = forms.IntegerField(label=_("y (down)"), min_value=0)

    def __init__(self, *args, floor: Floor, shops: list[Shop] | None = None, **kwargs):
        """`shops`: the floor's shops, loaded once for a page of these forms (else each
        form's menu reads them again)."""
        super().__init__(*args, **kwargs)
        self.floor = floor
        field = self.fields["shop"]
        field.queryset = floor.shops.select_related("brand").order_by("unit_no")
        if shops is not None:
            field.choices = [
                ("", field.empty_label),
                *((shop.pk, field.label_from_instance(shop)) for shop in shops),
            ]
        self.fields["y"].label = _("y (down, 0–%(height)s)") % {"height": floor.plan_aspect}
        self.fields["y"].validators.append(MaxValueValidator(floor.plan_aspect))
        self.fields["y"].widget.attrs["max"] = floor.plan_aspect
        for name in ("x", "y"):
            self.fields[name].widget.attrs.update({"size": 5, "data-coord": name})
        _labelled(self)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") == FloorMarker.Kind.SHOP and not cleaned.get("shop"):
            self.add_error("shop", _("A shop marker needs its shop."))
        return cleaned


class ShopPlaceForm(forms.Form):
    """A shop's rectangle; all four empty takes the shop off the plan."""

    x = forms.IntegerField(label=_("Left"), required=False, min_value=0, max_value=1000)
    y = forms.IntegerField(label=_("Top"), required=False, min_value=0)
    w = forms.IntegerField(label=_("Width"), required=False, min_value=1, max_value=1000)
    h = forms.IntegerField(label=_("Height"), required=False, min_value=1)

    def __init__(self, *args, floor: Floor, **kwargs):
        super().__init__(*args, **kwargs)
        self.floor = floor
        for name in ("x", "y", "w", "h"):
            self.fields[name].widget.attrs["size"] = 4
        _labelled(self)

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        values = [cleaned.get(name) for name in ("x", "y", "w", "h")]
        if any(v is None for v in values) and any(v is not None for v in values):
            raise forms.ValidationError(
                _("Enter all four of left, top, width and height, or none to take it off.")
            )
        x, y, w, h = values
        if x is not None:
            if x + w > 1000:
                self.add_error("w", _("The shop reaches past the plan's right edge (1000)."))
            if y + h > self.floor.plan_aspect:
                self.add_error(
                    "h",
                    _("The shop reaches past the plan's bottom edge (%(height)s).")
                    % {"height": self.floor.plan_aspect},
                )
        return cleaned
