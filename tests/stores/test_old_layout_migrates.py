"""A database of the layout before stores and pos existed (Store in members, Category and Sku
in loyalty, Floor, Brand and Shop in mall, PosTerminal in loyalty) migrates forward with its
rows, its foreign keys and its groups' permissions."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

# The leaf migrations of the previous layout; stores and pos did not exist.
OLD_LAYOUT = [
    ("members", "0012_consent_privacy_policy"),
    ("loyalty", "0009_claim_photos_private_and_daily_limit"),
    ("mall", "0001_initial"),
    ("coupons", "0002_birthday_schedule"),
    ("stores", None),
    ("pos", None),
]
MOVED = {
    "region": "members",
    "store": "members",
    "category": "loyalty",
    "sku": "loyalty",
    "floor": "mall",
    "brand": "mall",
    "shop": "mall",
    "posterminal": "loyalty",
}


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state([node for node in targets if node[1]]).apps


def _old_layout_filled(apps) -> dict:
    """Rows of every moved model, and of the models that point at them, as they were."""
    get = apps.get_model
    now = timezone.now()
    region = get("members", "Region").objects.create(code="HZ", name="杭州")
    stores = [
        get("members", "Store").objects.create(code=code, name=name, region=region)
        for code, name in (("S01", "武林旗舰店"), ("S02", "天一店"))
    ]
    women = get("loyalty", "Category").objects.create(code="W", name="女装", division="department")
    dresses = get("loyalty", "Category").objects.create(
        code="W1", name="连衣裙", division="department", parent=women
    )
    brand = get("mall", "Brand").objects.create(name="某品牌", category=women)
    floor = get("mall", "Floor").objects.create(store=stores[0], code="2F", name="女装", order=2)
    get("mall", "Shop").objects.create(floor=floor, brand=brand, unit_no="2F-01")
    get("loyalty", "Sku").objects.create(
        code="6901234567890", name="连衣裙", brand=brand, category=dresses, price_fen=29900
    )
    member = get("members", "Member").objects.create(
        card_no="00012345", phone="13800000001", region=region, home_store=stores[0]
    )
    get("members", "RegistrationChannel").objects.create(
        code="s01-desk", name="服务台", store=stores[0]
    )
    terminal = get("loyalty", "PosTerminal").objects.create(
        terminal_id="pos_old", store=stores[0], name="2F 收银 01", secret="s" * 64
    )
    receipt = get("loyalty", "Receipt").objects.create(
        store=stores[0],
        pos_no="P01",
        receipt_no="R-1",
        occurred_at=now,
        member=member,
        division="department",
        total_fen=29900,
        terminal=terminal,
    )
    get("loyalty", "ReceiptLine").objects.create(
        receipt=receipt,
        line_no=1,
        sku_code="6901234567890",
        name="连衣裙",
        brand=brand,
        category=dresses,
        qty=1,
        amount_fen=29900,
    )
    account = get("loyalty", "PointsAccount").objects.create(member=member, balance=299)
    get("loyalty", "PointsEntry").objects.create(
        account=account,
        kind="earn",
        points=299,
        balance_after=299,
        key=f"earn:receipt:{receipt.pk}",
        receipt=receipt,
        expires_on=now.date().replace(year=now.year + 1),
    )
    template = get("coupons", "CouponTemplate").objects.create(
        code="women10", name="女装满减", kind="cash", face_value_fen=1000, valid_days=30
    )
    template.stores.set(stores)
    template.floors.set([floor])
    template.brands.set([brand])
    template.categories.set([women])
    campaign = get("coupons", "Campaign").objects.create(name="女装", channel="manual")
    get("coupons", "Coupon").objects.create(
        code="OLDLAYOUT0000001",
        template=template,
        campaign=campaign,
        member=member,
        status="used",
        valid_from=now,
        valid_until=now + timedelta(days=30),
        used_at=now,
        used_store=stores[0],
        used_receipt=receipt,
        discount_fen=1000,
    )
    get("coupons", "CouponVerification").objects.create(
        terminal=terminal, request_id="req-1", code="OLDLAYOUT0000001", status_code=200, response={}
    )
    group = apps.get_model("auth", "Group").objects.get(name="store_manager")
    granted = apps.get_model("auth", "Permission").objects.filter(
        content_type__app_label="members", codename="view_store"
    )
    group.permissions.add(*granted)
    return {"receipt": receipt.pk, "terminal": terminal.pk, "stores": [s.pk for s in stores]}


@pytest.mark.django_db(transaction=True)
def test_a_database_of_the_old_layout_migrates_with_its_rows():
    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()
    try:
        old = _old_layout_filled(_migrate(OLD_LAYOUT))
        types = dict(
            Permission.objects.filter(content_type__model__in=MOVED)
            .values_list("content_type__model", "content_type__app_label")
            .distinct()
        )
        assert types == MOVED  # the content types were the old apps' before the move
    finally:
        _migrate(leaves)

    from coupons.models import Coupon, CouponTemplate, CouponVerification
    from loyalty.models import Receipt, ReceiptLine
    from members.models import Member, RegistrationChannel
    from pos.models import PosTerminal
    from stores.models import Brand, Category, Floor, Region, Shop, Sku, Store

    counts = {Region: 1, Store: 2, Category: 2, Sku: 1, Floor: 1, Brand: 1, Shop: 1, PosTerminal: 1}
    assert {model: model.objects.count() for model in counts} == counts
    receipt = Receipt.objects.get(pk=old["receipt"])
    assert receipt.store.code == "S01" and receipt.store.region.code == "HZ"
    assert receipt.terminal == PosTerminal.objects.get(pk=old["terminal"])
    assert receipt.terminal.store == receipt.store
    line = ReceiptLine.objects.get(receipt=receipt)
    assert (line.brand.name, line.category.name, line.category.parent.code) == (
        "某品牌",
        "连衣裙",
        "W",
    )
    assert Sku.objects.get().brand.shops.get().floor.store.code == "S01"
    member = Member.objects.get()
    assert (member.home_store.code, member.region.code) == ("S01", "HZ")
    assert RegistrationChannel.objects.get().store.code == "S01"
    template = CouponTemplate.objects.get()
    assert sorted(template.stores.values_list("pk", flat=True)) == sorted(old["stores"])
    assert [template.floors.get().code, template.brands.get().name] == ["2F", "某品牌"]
    assert template.categories.get().code == "W"
    coupon = Coupon.objects.get()
    assert (coupon.used_store.code, coupon.used_receipt) == ("S01", receipt)
    assert CouponVerification.objects.get().terminal.terminal_id == "pos_old"
    # New rows go on after the old ones in the tables the models kept.
    assert Store.objects.create(code="S03", name="新店", region=Region.objects.get()).pk > max(
        old["stores"]
    )

    # The content types moved, so the group kept its permission under the new app label.
    assert set(
        Permission.objects.filter(content_type__model__in=MOVED).values_list(
            "content_type__app_label", flat=True
        )
    ) == {"stores", "pos"}
    manager = Group.objects.get(name="store_manager")
    assert manager.permissions.filter(
        content_type__app_label="stores", codename="view_store"
    ).exists()
    call_command("check_ledger", stdout=open("/dev/null", "w"))  # noqa: SIM115
