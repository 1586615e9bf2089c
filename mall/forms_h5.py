"""The member's redeem form (积分兑换): quantity, how to receive it, and the one-time key that
makes a double tap redeem once (goods_redeem answers a repeated key with the first redemption)."""

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from mall.models import Goods, Redemption
from mall.redeeming import QTY_MAX
from members.models import DeliveryAddress, Member
from stores.models import Store

Delivery = Redemption.Delivery
KEY_PATTERN = r"\A[A-Za-z0-9-]{16,64}\Z"


class RedeemForm(forms.Form):
    qty = forms.IntegerField(
        label=_("Quantity"),
        min_value=1,
        max_value=QTY_MAX,
        initial=1,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "weui-input"}),
        error_messages={"required": _("Enter a quantity.")},
    )
    delivery = forms.ChoiceField(label=_("How to receive it"), widget=forms.RadioSelect)
    pickup_store = forms.ModelChoiceField(
        label=_("Pickup store"), queryset=Store.objects.none(), required=False
    )
    address = forms.ModelChoiceField(
        label=_("Delivery address"), queryset=DeliveryAddress.objects.none(), required=False
    )
    key = forms.RegexField(
        regex=KEY_PATTERN,
        widget=forms.HiddenInput,
        error_messages={
            "required": _("This form has expired. Please submit it again."),
            "invalid": _("This form has expired. Please submit it again."),
        },
    )

    def __init__(self, *args, goods: Goods, member: Member, **kwargs):
        super().__init__(*args, **kwargs)
        self.goods = goods
        if goods.kind == Goods.Kind.COUPON:
            choices = [(Delivery.COUPON, Delivery.COUPON.label)]
        else:
            choices = [
                (value, label)
                for value, label, offered in (
                    (Delivery.PICKUP, Delivery.PICKUP.label, goods.offers_pickup),
                    (Delivery.EXPRESS, Delivery.EXPRESS.label, goods.offers_express),
                )
                if offered
            ]
        self.fields["delivery"].choices = choices
        stores = goods.pickup_stores.filter(is_active=True)
        if not stores.exists():  # no list: any open store's desk
            stores = Store.objects.filter(is_active=True)
        self.fields["pickup_store"].queryset = stores.order_by("code")
        self.fields["pickup_store"].label_from_instance = lambda store: store.name
        self.fields["pickup_store"].empty_label = None
        self.fields["address"].queryset = member.addresses.all()
        self.fields["address"].label_from_instance = lambda a: (
            f"{a.recipient} {a.phone} {a.region} {a.detail}"
        )
        self.fields["address"].empty_label = None
        if not self.is_bound:
            self.initial.setdefault("key", uuid.uuid4().hex)
            self.initial.setdefault("delivery", choices[0][0] if choices else "")
            home = member.home_store_id
            if home and stores.filter(pk=home).exists():
                self.initial.setdefault("pickup_store", home)
            default = member.addresses.filter(is_default=True).first()
            if default is not None:
                self.initial.setdefault("address", default.pk)

    def clean(self):
        data = super().clean()
        if data.get("delivery") == Delivery.PICKUP and not data.get("pickup_store"):
            self.add_error("pickup_store", _("Choose the store where you will pick it up."))
        if data.get("delivery") == Delivery.EXPRESS and not data.get("address"):
            self.add_error("address", _("Choose a delivery address."))
        return data
