"""The demo mall behind `manage.py seed_demo`: master data, members with habits, and receipts.

Everything is drawn from one `random.Random(seed)`, so a seed and an as-of time give the same
mall every time. Members fall into habits (loyal, regular, lapsing, lost, new) so that RFM and
lifecycle reports have something to find; baskets follow weekly and seasonal rhythms and carry
planted associations (连衣裙 → 遮阳帽, 热水袋 → 睡衣, 电吹风 → 浴室用品) for basket mining.
Receipts and lines go in with COPY; members earn their points through the same bulk path
as imports (loyalty.bulk_earning), dated at each receipt, and the tier review settles tiers.
"""

import bisect
import io
import math
import random
import time as clock
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, User
from django.db import connection, transaction
from django.utils import timezone

from analytics.models import ClvRun, ClvScore, LifecycleChange, RfmRow, RfmSnapshot, Tag
from analytics.tags import rule_tags_recompute
from config.demo import catalog
from config.demo.activities import demo_activities
from config.demo.floors import demo_floor_plans
from config.demo.goods import demo_goods
from config.demo.lottery import demo_lottery
from config.demo.tickets import demo_feedback, demo_ticket_count
from core.bulk import foreign_keys_suspended
from core.models import AuditLog
from core.roles import Role
from core.tablecache import tables_changed
from coupons.defaults import demo_coupon_templates
from coupons.issuing import campaign_get_or_create, coupons_issue_bulk
from coupons.models import Campaign, Coupon, CouponTemplate, IssueRule
from feedback.models import Department, Ticket, TicketCounter
from loyalty.bulk_earning import receipts_earn
from loyalty.defaults import loyalty_defaults_install
from loyalty.models import Receipt, ReceiptLine
from mall.models import Goods, GoodsCategory
from members.cards import card_no_random
from members.models import (
    CardPageSettings,
    Member,
    MenuButton,
    RegistrationChannel,
    StaffProfile,
)
from mining.models import MiningRun
from pos.models import PosTerminal
from stores.models import Brand, Category, Division, Floor, Region, Shop, Sku, Store

DEMO_PASSWORD = "demo-2026"  # noqa: S105 - printed for the demo; seed_demo refuses production

DEMO_STAFF = [
    # username, name, role, scope, store code, employee no, department
    ("hq", "沈明远", Role.HQ_ADMIN, "all", None, "E0001", "总部信息中心"),
    ("s01_manager", "陈晓静", Role.STORE_MANAGER, "store", "S01", "E1001", "武林旗舰店"),
    ("s02_manager", "王浩然", Role.STORE_MANAGER, "store", "S02", "E2001", "天一店"),
    ("marketing", "李思琪", Role.MARKETING, "all", None, "E0101", "市场部"),
    ("service", "赵雨萱", Role.CUSTOMER_SERVICE, "store", "S01", "E1101", "优服课"),
    ("analyst", "周子涵", Role.ANALYST, "all", None, "E0201", "会员数据部"),
]

# Relative weight of each weekday (Monday first) and month (January first) for store visits.
WEEKDAY_WEIGHT = [0.85, 0.8, 0.85, 0.9, 1.15, 1.6, 1.5]
MONTH_WEIGHT = [1.3, 1.25, 0.9, 0.95, 1.1, 1.0, 1.0, 1.0, 0.95, 1.15, 1.2, 1.25]
HOUR_WEIGHT = {
    10: 4,
    11: 6,
    12: 6,
    13: 7,
    14: 9,
    15: 10,
    16: 10,
    17: 9,
    18: 9,
    19: 10,
    20: 8,
    21: 4,
}

SEGMENTS = [
    # name, share, visits per month (low, high)
    ("loyal", 0.16, (3.0, 6.0)),
    ("regular", 0.32, (0.8, 2.5)),
    ("lapsing", 0.18, (1.0, 3.0)),
    ("lost", 0.14, (1.0, 2.0)),
    ("new", 0.12, (1.0, 3.0)),
    ("dormant", 0.08, (0.0, 0.0)),
]


@dataclass
class DemoResult:
    members: int = 0
    receipts: int = 0
    lines: int = 0
    points_entries: int = 0
    points: int = 0
    seconds: float = 0.0
    staff: list = field(default_factory=list)
    coupons: int = 0
    tickets: int = 0
    redemptions: int = 0


@dataclass
class _Item:
    sku_code: str
    name: str
    spec: str
    brand_name: str
    category_name: str
    brand_id: int | None
    category_id: int
    price_fen: int
    non_merchandise: bool


def demo_is_seeded() -> bool:
    return Member.objects.exists() or Store.objects.exists()


def demo_reset() -> None:
    """Empty every table the demo fills (the whole domain), keeping users other than demo staff."""
    tables = [
        model._meta.db_table
        for model in (
            Receipt._meta.get_field("lines").related_model,
            Receipt,
            Coupon,
            CouponTemplate,
            Campaign,
            Member,
            Sku,
            Shop,
            Brand,
            Floor,
            Category,
            StaffProfile,
            RegistrationChannel,
            Store,
            Region,
            RfmSnapshot,
            RfmRow,  # the nightly rows have no database foreign keys: named, not cascaded
            LifecycleChange,
            ClvRun,
            ClvScore,
            MiningRun,
            Ticket,  # and, cascaded, their events, ratings and compensations
            TicketCounter,
            Department,
            Goods,  # and, cascaded, their pictures and redemptions
            GoodsCategory,
        )
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")  # noqa: S608
    tables_changed()  # stores, categories and brands are gone: no process may serve them
    staff = User.objects.filter(username__in=[row[0] for row in DEMO_STAFF])
    # The demo's own audit trail (compensations granted in the demo …) goes with the demo:
    # it names demo staff, who are about to be created afresh.
    AuditLog.objects.filter(actor__in=staff).delete()
    staff.delete()
    Tag.objects.filter(name=DEMO_RULE_TAG).delete()  # the migration's 高复购 stays


def demo_seed(*, members: int, months: int, seed: int, as_of: datetime) -> DemoResult:
    """Build the demo mall in one transaction; the database must hold no stores or members."""
    started = clock.monotonic()
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    as_of = timezone.localtime(as_of).replace(second=0, microsecond=0)
    with transaction.atomic():
        # Stores, categories, brands, tiers and rules are written in bulk (no signals): the
        # tills' per-process copies are read afresh in this transaction and after it.
        tables_changed()
        stores = _stores()
        RegistrationChannel.objects.bulk_create(
            RegistrationChannel(code=code, name=catalog.CHANNEL_NAMES[code])
            for code, _weight in catalog.CHANNELS
        )
        items = _catalog(stores)
        result = DemoResult(staff=_staff(stores))
        demo_floor_plans(stores, actor=User.objects.get(username="marketing"))
        _card_page(stores)
        people = _members(rng, count=members, months=months, stores=stores, as_of=as_of)
        result.members = len(people)
        result.receipts, result.lines = _receipts(
            rng, people=people, items=items, stores=stores, months=months, as_of=as_of
        )
        loyalty_defaults_install(apps)  # tiers and earning rules, if a flush removed them
        earned = receipts_earn(
            receipt_ids=list(
                Receipt.objects.filter(member__isnull=False).values_list("pk", flat=True)
            ),
            history=True,
            as_of=as_of,
        )
        result.points_entries, result.points = earned.entries, earned.points
        result.coupons = _coupons(stores=stores, as_of=as_of)
        _rule_tags()
        result.tickets = demo_feedback(
            rng, tickets=demo_ticket_count(members), months=months, as_of=as_of
        )["tickets"]
        # The points mall draws from a generator of its own: how much the parts before it
        # draw (the tickets demo's draws did vary between two runs) cannot move it.
        result.redemptions = demo_goods(random.Random(f"{seed}:goods"), as_of=as_of)[  # noqa: S311
            "redemptions"
        ]
        demo_activities(as_of=as_of)
        demo_lottery(random.Random(f"{seed}:lottery"), as_of=as_of)  # noqa: S311
    result.seconds = clock.monotonic() - started
    return result


def demo_analyses(*, as_of: datetime) -> dict:
    """Last night's jobs on the new demo history, so the analyses have something to show at
    once: the RFM snapshot, predicted value and basket mining, as of the day before `as_of`."""
    from analytics.clv import FitError
    from analytics.predicted_value import clv_run
    from analytics.services import rfm_snapshot_build
    from mining.services import mining_run_execute, mining_run_nightly_create

    yesterday = timezone.localdate(as_of) - timedelta(days=1)
    snapshot = rfm_snapshot_build(as_of=yesterday)
    try:
        clv = clv_run(as_of=yesterday).member_count
    except FitError as error:  # a tiny demo history may not fit: the run is kept as failed
        clv = f"0 ({error})"
    rule_tags_recompute()  # 高复购 reads the snapshot
    mining = mining_run_nightly_create(today=yesterday + timedelta(days=1))
    mining = mining_run_execute(run_id=mining.pk) if mining else None
    return {
        "rfm_members": snapshot.row_count,
        "clv_members": clv,
        "rules": mining.rule_count if mining else 0,
    }


# --- Master data ----------------------------------------------------------------------------


def _stores() -> list[Store]:
    regions = {code: Region.objects.create(code=code, name=name) for code, name in catalog.REGIONS}
    return [
        Store.objects.create(
            code=code,
            name=name,
            region=regions[region],
            address=address,
            phone=phone,
            opened_on=date(2008 + index * 7, 9, 28),
        )
        for index, (code, name, region, address, phone) in enumerate(catalog.STORES)
    ]


def _ean13(number: int) -> str:
    body = f"690{number:09d}"
    odd = sum(int(d) for d in body[0::2])
    even = sum(int(d) for d in body[1::2])
    return body + str((10 - (odd + 3 * even) % 10) % 10)


def _catalog(stores: list[Store]) -> dict[str, list[_Item]]:
    """Categories, brands, shops on floors and SKUs; returns the SKUs by leaf category code."""
    departments = {
        code: Category.objects.create(code=code, name=name, division=division)
        for code, name, division in catalog.DEPARTMENTS
    }
    leaves = {
        code: Category.objects.create(
            code=code,
            name=name,
            division=departments[parent].division,
            parent=departments[parent],
        )
        for code, name, parent, _floor in catalog.CATEGORIES
    }
    brands = {}
    for category_code, names in catalog.BRANDS.items():
        for name in names:
            brands[name] = Brand.objects.create(name=name, category=leaves[category_code])
    own_supermarket = Brand.objects.create(
        name="星河超市", category=departments["SM"], description="B1 自营超市"
    )

    floor_of_category = {code: floor for code, _n, _p, floor in catalog.CATEGORIES}
    for store_index, store in enumerate(stores):
        floors = {
            code: Floor.objects.create(store=store, code=code, name=name, order=order)
            for code, order, name in catalog.FLOORS
        }
        Shop.objects.create(floor=floors["B1"], brand=own_supermarket, unit_no="B1-01")
        next_unit = dict.fromkeys(floors, 1)
        for category_code, names in catalog.BRANDS.items():
            if leaves[category_code].division == Division.SUPERMARKET:
                continue
            floor = floors[floor_of_category[category_code]]
            for brand_index, name in enumerate(names):
                if store_index and brand_index % 4 == 3:  # the smaller store lacks some counters
                    continue
                Shop.objects.create(
                    floor=floor,
                    brand=brands[name],
                    unit_no=f"{floor.code}-{next_unit[floor.code]:02d}",
                )
                next_unit[floor.code] += 1
        for code, name in [("6F", "星河影城"), ("6F", "海底捞火锅"), ("6F", "外婆家")]:
            brand, _ = Brand.objects.get_or_create(name=name)
            Shop.objects.create(
                floor=floors[code], brand=brand, unit_no=f"{code}-{next_unit[code]:02d}"
            )
            next_unit[code] += 1

    skus, items = [], {}
    number = 1
    for category_code, item_rows in catalog.ITEMS.items():
        leaf = leaves[category_code]
        non_merchandise = category_code in catalog.NON_MERCHANDISE_CATEGORIES
        brand_names = catalog.BRANDS.get(category_code) or [own_supermarket.name]
        for brand_index, brand_name in enumerate(brand_names):
            brand = brands.get(brand_name, own_supermarket)
            factor = 0.8 + 0.15 * ((brand_index * 7 + number) % 6)
            for name, spec, price in item_rows:
                rounding = 10 if leaf.division == Division.SUPERMARKET else 100
                price_fen = (
                    price
                    if non_merchandise
                    else max(rounding, round(price * factor / rounding) * rounding)
                )
                code = _ean13(number)
                number += 1
                skus.append(
                    Sku(
                        code=code,
                        name=name,
                        spec=spec,
                        brand=brand,
                        category=leaf,
                        price_fen=price_fen,
                        non_merchandise=non_merchandise,
                    )
                )
                items.setdefault(category_code, []).append(
                    _Item(
                        code,
                        name,
                        spec,
                        brand.name,
                        leaf.name,
                        brand.pk,
                        leaf.pk,
                        price_fen,
                        non_merchandise,
                    )
                )
    Sku.objects.bulk_create(skus)
    return items


def _staff(stores: list[Store]) -> list[tuple[str, str, str]]:
    by_code = {store.code: store for store in stores}
    password = make_password(DEMO_PASSWORD)  # hashed once: the same password for every demo login
    created = []
    for username, name, role, scope, store_code, employee_no, department in DEMO_STAFF:
        user = User.objects.create(
            username=username,
            first_name=name,  # the handler card members see names the handler
            email=f"{username}@mall.example",
            password=password,
            is_staff=role == Role.HQ_ADMIN,
        )
        user.groups.add(Group.objects.get(name=role.value))
        StaffProfile.objects.create(
            user=user,
            name=name,
            department=department,
            employee_no=employee_no,
            scope=scope,
            store=by_code.get(store_code),
        )
        created.append((username, DEMO_PASSWORD, str(role.label)))
    return created


def _card_page(stores: list[Store]) -> None:
    MenuButton.objects.all().delete()
    MenuButton.objects.bulk_create(
        [
            MenuButton(
                label="楼层导视", icon="🧭", url=f"/m/stores/{stores[0].code}/floors/", order=1
            ),
            MenuButton(label="门店", icon="🏬", url="/m/", order=2),
            MenuButton(label="积分商城", icon="🎁", url="/m/mall/", order=3),
            MenuButton(label="抽奖活动", icon="🎰", url="/m/lottery/", order=5),
        ]
    )
    CardPageSettings.current()


# --- Members ---------------------------------------------------------------------------------


@dataclass
class _Person:
    member_id: int
    gender: str
    home: int  # index into stores
    segment: str
    rate: float  # visits per month at full activity
    active_from: datetime
    active_until: datetime
    supermarket_share: float
    basket_scale: float
    favourite_brand: dict = field(default_factory=dict)


def _chinese_name(rng: random.Random, gender: str) -> str:
    surname = (
        rng.choice(catalog.COMPOUND_SURNAMES)
        if rng.random() < 0.01
        else rng.choice(catalog.SURNAMES)
    )
    pool = catalog.GIVEN_FEMALE if gender == "F" else catalog.GIVEN_MALE
    first = rng.choice(pool if rng.random() < 0.6 else catalog.GIVEN_ANY)
    if rng.random() < 0.3:
        return surname + first
    return surname + first + rng.choice(pool)


def _members(rng, *, count: int, months: int, stores, as_of: datetime) -> list[_Person]:
    window_start = as_of - timedelta(days=round(months * 30.44))
    segment_cum = list(_cumulative([share for _n, share, _r in SEGMENTS]))
    channel_codes = [code for code, _w in catalog.CHANNELS]
    channel_cum = list(_cumulative([w for _c, w in catalog.CHANNELS]))
    cards: set[str] = set()
    phones: set[str] = set()
    rows, people = [], []
    for _ in range(count):
        gender = "F" if rng.random() < 0.62 else ("M" if rng.random() < 0.97 else "U")
        segment, _share, (low, high) = SEGMENTS[_pick(rng, segment_cum)]
        home = 0 if rng.random() < 0.65 else 1
        if segment == "new":
            registered = as_of - timedelta(days=rng.uniform(1, 90), minutes=rng.randrange(600))
        else:
            registered = window_start - timedelta(days=rng.uniform(0, 3 * 365))
        active_from, active_until = max(registered, window_start), as_of
        span = as_of - window_start
        if segment == "lapsing":
            active_until = window_start + span * rng.uniform(0.45, 0.8)
        elif segment == "lost":
            active_until = window_start + span * rng.uniform(0.1, 0.35)
        card = card_no_random(rng.randrange)
        while card in cards:
            card = card_no_random(rng.randrange)
        cards.add(card)
        phone = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
        while phone in phones:
            phone = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
        phones.add(phone)
        age = rng.triangular(18, 72, 36)
        birthday = (as_of - timedelta(days=age * 365.25)).date()
        store = stores[home]
        rows.append(
            Member(
                card_no=card,
                phone=phone,
                name=_chinese_name(rng, gender),
                gender=gender,
                birthday=birthday,
                region_id=store.region_id,
                home_store=store,
                channel=channel_codes[_pick(rng, channel_cum)],
                registered_at=registered,
            )
        )
        people.append(
            _Person(
                member_id=0,
                gender=gender,
                home=home,
                segment=segment,
                rate=rng.uniform(low, high),
                active_from=active_from,
                active_until=active_until,
                supermarket_share=rng.uniform(0.35, 0.9),
                basket_scale=rng.lognormvariate(0, 0.35),
            )
        )
    Member.objects.bulk_create(rows, batch_size=2000)
    for person, member in zip(people, rows, strict=True):
        person.member_id = member.pk
    return people


# --- Receipts --------------------------------------------------------------------------------


def _cumulative(weights):
    total = 0.0
    for weight in weights:
        total += weight
        yield total


def _pick(rng: random.Random, cum: list[float]) -> int:
    return bisect.bisect_right(cum, rng.random() * cum[-1])


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _seasonal(category_code: str, month: int) -> float:
    """How much more (or less) a category sells in a month: dresses in summer, warmth in winter."""
    summer = month in (5, 6, 7, 8)
    winter = month in (11, 12, 1, 2)
    if category_code in ("DP05", "DP08"):
        return 2.2 if summer else (1.0 if month in (4, 9) else 0.3)
    if category_code in ("DP17", "DP12"):
        return 2.5 if winter else 0.15
    if category_code == "SM08":
        return 1.6 if summer else 1.0
    return 1.0


SUPERMARKET_WEIGHTS = {
    "SM01": 9,
    "SM02": 8,
    "SM03": 7,
    "SM04": 8,
    "SM05": 4,
    "SM06": 4,
    "SM07": 7,
    "SM08": 7,
    "SM09": 3,
    "SM10": 4,
    "SM11": 5,
    "SM12": 0.6,
    "SM13": 0.8,
}
DEPARTMENT_WEIGHTS = {
    "F": {
        "DP01": 8,
        "DP02": 5,
        "DP03": 2,
        "DP04": 2,
        "DP05": 7,
        "DP06": 6,
        "DP07": 4,
        "DP08": 2,
        "DP09": 2,
        "DP10": 3,
        "DP13": 3,
        "DP14": 2,
        "DP15": 4,
        "DP16": 2,
        "DP17": 2,
        "DP18": 3,
        "DP19": 2,
        "DP20": 3,
        "DP21": 0.6,
        "DP22": 1.5,
        "DP23": 1,
    },
    "M": {
        "DP01": 1,
        "DP04": 1,
        "DP11": 7,
        "DP12": 6,
        "DP13": 7,
        "DP14": 5,
        "DP15": 2,
        "DP16": 2,
        "DP17": 1,
        "DP18": 2,
        "DP19": 1,
        "DP21": 1.2,
        "DP22": 1,
        "DP23": 0.6,
    },
}
DEPARTMENT_WEIGHTS["U"] = DEPARTMENT_WEIGHTS["F"]
# Planted associations: (antecedent category, consequent category, probability).
ASSOCIATIONS = [("DP05", "DP08", 0.45), ("DP17", "DP19", 0.5), ("SM12", "SM10", 0.6)]
SUPERMARKET_POS = [f"P{n:02d}" for n in range(1, 13)]
NULL = "\\N"  # COPY text format
DEPARTMENT_POS = {"1F": "D01", "2F": "D02", "3F": "D03", "4F": "D04", "5F": "D05"}


class _Baskets:
    """Draws baskets; weights are prepared once per month since seasons shift them."""

    def __init__(self, rng: random.Random, items: dict[str, list[_Item]]):
        self.rng = rng
        self.items = items
        self.floor_of = {code: floor for code, _n, _p, floor in catalog.CATEGORIES}
        self._month_cache: dict[tuple, tuple[list[str], list[float]]] = {}

    def _weights(self, table: dict[str, float], month: int, key) -> tuple[list[str], list[float]]:
        cache_key = (key, month)
        if cache_key not in self._month_cache:
            codes = list(table)
            cum = list(_cumulative([table[c] * _seasonal(c, month) for c in codes]))
            self._month_cache[cache_key] = (codes, cum)
        return self._month_cache[cache_key]

    def _item(self, category_code: str, person: _Person | None) -> _Item:
        options = self.items[category_code]
        if person is not None:
            favourite = person.favourite_brand.get(category_code)
            if favourite is None:
                favourite = person.favourite_brand[category_code] = self.rng.randrange(len(options))
            if self.rng.random() < 0.6:
                return options[favourite]
        return self.rng.choice(options)

    def supermarket(self, month: int, person: _Person | None) -> list[tuple[_Item, int]]:
        rng = self.rng
        codes, cum = self._weights(SUPERMARKET_WEIGHTS, month, "sm")
        scale = person.basket_scale if person else 0.8
        size = max(1, min(18, int(rng.expovariate(1 / (3.2 * scale))) + 1))
        chosen: list[str] = []
        for _ in range(size):
            code = codes[_pick(rng, cum)]
            if code not in chosen:
                chosen.append(code)
        self._associate(chosen)
        lines = [
            (self._item(code, person), 1 if rng.random() < 0.7 else rng.randint(2, 3))
            for code in chosen
        ]
        if rng.random() < 0.35:
            lines.append((self.items["SM99"][0], 1))
        return lines

    def department(self, month: int, person: _Person | None) -> tuple[str, list[tuple[_Item, int]]]:
        rng = self.rng
        gender = person.gender if person else "F"
        codes, cum = self._weights(DEPARTMENT_WEIGHTS[gender], month, gender)
        first = codes[_pick(rng, cum)]
        chosen = [first]
        if rng.random() < 0.3:
            other = codes[_pick(rng, cum)]
            if other != first and self.floor_of[other] == self.floor_of[first]:
                chosen.append(other)
        self._associate(chosen)
        lines = [(self._item(code, person), 1) for code in chosen]
        if rng.random() < 0.05:
            lines.append((self.items["DP99"][0], 1))
        if rng.random() < 0.12:
            lines.append((self.items["DP98"][0], rng.randint(1, 4)))
        return self.floor_of[first], lines

    def _associate(self, chosen: list[str]) -> None:
        for antecedent, consequent, probability in ASSOCIATIONS:
            if (
                antecedent in chosen
                and consequent not in chosen
                and self.rng.random() < probability
            ):
                chosen.append(consequent)


def _day_tables(window_start: date, as_of: date) -> tuple[list[date], list[float]]:
    """Every day of the window with the running sum of its visit weights."""
    days, cum = [], []
    total = 0.0
    day = window_start
    while day <= as_of:
        total += WEEKDAY_WEIGHT[day.weekday()] * MONTH_WEIGHT[day.month - 1]
        days.append(day)
        cum.append(total)
        day += timedelta(days=1)
    return days, cum


def _receipts(rng, *, people, items, stores, months, as_of: datetime) -> tuple[int, int]:
    window_start = (as_of - timedelta(days=round(months * 30.44))).date()
    days, day_cum = _day_tables(window_start, as_of.date())
    hours = list(HOUR_WEIGHT)
    hour_cum = list(_cumulative(HOUR_WEIGHT.values()))
    baskets = _Baskets(rng, items)
    tz = timezone.get_current_timezone()
    visits: list[
        list
    ] = []  # [when, store index, member id or None, division, pos, lines, refund_of]

    def visit(when: datetime, store: int, person: _Person | None, share: float) -> None:
        if rng.random() < share:
            pos = rng.choice(SUPERMARKET_POS)
            visits.append(
                [
                    when,
                    store,
                    person and person.member_id,
                    Division.SUPERMARKET,
                    pos,
                    baskets.supermarket(when.month, person),
                    None,
                ]
            )
            return
        floor, lines = baskets.department(when.month, person)
        discount = rng.choice((1.0, 1.0, 0.9, 0.8, 0.7))
        priced = [(item, qty, discount) for item, qty in lines]
        visits.append(
            [
                when,
                store,
                person and person.member_id,
                Division.DEPARTMENT,
                DEPARTMENT_POS.get(floor, "D01"),
                priced,
                None,
            ]
        )

    def moment(day: date) -> datetime:
        hour = hours[_pick(rng, hour_cum)]
        return datetime(
            day.year, day.month, day.day, hour, rng.randrange(60), rng.randrange(60), tzinfo=tz
        )

    def day_between(first: date, last: date) -> date | None:
        lo = bisect.bisect_left(days, first)
        hi = bisect.bisect_right(days, last)
        if lo >= hi:
            return None
        base = day_cum[lo - 1] if lo else 0.0
        target = base + rng.random() * (day_cum[hi - 1] - base)
        return days[min(bisect.bisect_left(day_cum, target, lo, hi), hi - 1)]

    member_visits = 0
    for person in people:
        first, last = person.active_from.date(), person.active_until.date()
        if first > last or person.rate <= 0:
            continue
        active_months = max((last - first).days, 1) / 30.44
        count = _poisson(rng, person.rate * active_months)
        for _ in range(count):
            day = day_between(first, last)
            if day is None:
                break
            store = person.home if rng.random() < 0.88 else 1 - person.home
            visit(moment(day), store, person, person.supermarket_share)
            member_visits += 1
    for _ in range(int(member_visits * 0.4)):  # shoppers without a member card
        day = day_between(days[0], days[-1])
        visit(moment(day), 0 if rng.random() < 0.62 else 1, None, 0.8)

    visits = [v for v in visits if v[0] <= as_of]
    for original in [v for v in visits if v[3] == Division.DEPARTMENT and rng.random() < 0.015]:
        when = original[0] + timedelta(days=rng.randint(1, 10), hours=rng.randint(0, 3))
        if when <= as_of:
            item, qty, discount = original[5][0]
            visits.append(
                [
                    when,
                    original[1],
                    original[2],
                    original[3],
                    original[4],
                    [(item, qty, discount)],
                    original,
                ]
            )
    visits.sort(key=lambda v: (v[0], v[1], v[4]))
    return _copy_receipts(visits, stores)


def _line_amount(item: _Item, qty: int, discount: float = 1.0) -> int:
    amount = item.price_fen * qty
    if discount < 1.0 and not item.non_merchandise:
        amount = round(amount * discount / 100) * 100
    return amount


def _copy_receipts(visits, stores) -> tuple[int, int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM loyalty_receipt")
        next_id = cursor.fetchone()[0] + 1
    receipts, lines = io.StringIO(), io.StringIO()
    sequence: dict[tuple, int] = {}
    ids: dict[int, tuple[int, str]] = {}
    line_count = 0
    for index, (when, store, member_id, division, pos, basket, refund_of) in enumerate(visits):
        receipt_id = next_id + index
        day = when.date()  # `when` is in the mall's time zone already
        key = (store, pos, day)
        sequence[key] = sequence.get(key, 0) + 1
        receipt_no = f"{day:%Y%m%d}-{sequence[key]:06d}"
        ids[id(visits[index])] = (receipt_id, receipt_no)
        total = 0
        for line_no, entry in enumerate(basket, start=1):
            item, qty = entry[0], entry[1]
            amount = (
                _line_amount(item, qty, entry[2])
                if division == Division.DEPARTMENT
                else _line_amount(item, qty)
            )
            total += amount
            lines.write(
                f"{receipt_id}\t{line_no}\t{item.sku_code}\t{item.name}\t{item.spec}\t"
                f"{item.brand_name}\t{item.category_name}\t{item.brand_id or NULL}\t"
                f"{item.category_id}\t{qty}\t{amount}\t{'t' if item.non_merchandise else 'f'}\n"
            )
            line_count += 1
        if refund_of is not None:
            kind, refund_id = Receipt.Kind.REFUND, ids[id(refund_of)][0]
        else:
            kind, refund_id = Receipt.Kind.SALE, NULL
        moment = when.isoformat()
        receipts.write(
            f"{receipt_id}\t{stores[store].pk}\t{pos}\t{receipt_no}\t{moment}\t"
            f"{member_id or NULL}\t{kind}\t{refund_id}\t{division}\t{total}\t{moment}\t\n"
        )
    receipts.seek(0)
    lines.seek(0)
    with (
        foreign_keys_suspended(["loyalty_receipt", "loyalty_receiptline"]),
        connection.cursor() as cursor,
    ):
        cursor.copy_expert(
            "COPY loyalty_receipt (id, store_id, pos_no, receipt_no, occurred_at, member_id, kind,"
            " refund_of_id, division, total_fen, created_at, payload_hash) FROM STDIN",
            receipts,
        )
        cursor.copy_expert(
            "COPY loyalty_receiptline (receipt_id, line_no, sku_code, name, spec, brand_name,"
            " category_name, brand_id, category_id, qty, amount_fen, non_merchandise) FROM STDIN",
            lines,
        )
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('loyalty_receipt', 'id'),"
            " (SELECT COALESCE(MAX(id), 1) FROM loyalty_receipt))"
        )
    return len(visits), line_count


# --- Coupons and a till --------------------------------------------------------------------

DEMO_RULE_TAG = "母婴"
DEMO_TERMINAL = ("pos_demo_s01", "demo-secret-not-for-production")  # noqa: S105 - demo only


def _rule_tags() -> None:
    """The demo's 母婴 tag (children's wear or toys bought in the last year) beside the
    migration's 高复购, both computed now (高复购 again after last night's RFM run:
    demo_analyses)."""
    kids = Category.objects.get(code=catalog.KIDS_WEAR)
    Tag.objects.update_or_create(
        name=DEMO_RULE_TAG,
        defaults={
            "kind": Tag.Kind.RULE,
            "rule": {"bought_category": kids.pk, "bought_days": 365},
            "description": "近 365 天买过童装或玩具（每晚重算）",
        },
    )
    rule_tags_recompute()


def demo_till_credentials() -> tuple[str, str] | None:
    """The demo till's id and secret while it is active, for `make run` to print each time."""
    found = PosTerminal.objects.filter(terminal_id=DEMO_TERMINAL[0], is_active=True).values_list(
        "terminal_id", "secret"
    )
    return found.first()


def _coupons(*, stores, as_of: datetime) -> int:
    """WELCOME10 for members who joined in the last 30 days; 女装满300减50 ten days ago to the
    women who bought women's wear in the three months before, used by those who bought enough
    women's wear since; a demo till."""
    PosTerminal.objects.create(
        terminal_id=DEMO_TERMINAL[0], secret=DEMO_TERMINAL[1], store=stores[0], name="演示收银台"
    )
    welcome, dress = demo_coupon_templates()
    # The till takes the women's-wear coupon on women's wear only, on the floors it names.
    dress.categories.set(Category.objects.filter(code=catalog.WOMENS_WEAR))
    dress.floors_remark = f"{' '.join(catalog.floors_of(catalog.WOMENS_WEAR))} 女装"
    dress.save(update_fields=["floors_remark"])
    recent = list(
        Member.objects.filter(registered_at__gt=as_of - timedelta(days=30))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    welcome_campaign = campaign_get_or_create(channel=Campaign.Channel.WELCOME, name="新会员礼")
    IssueRule.objects.filter(template=welcome).update(campaign=welcome_campaign)  # sign-ups too
    issued = coupons_issue_bulk(
        template=welcome,
        member_ids=recent,
        campaign=welcome_campaign,
        now=as_of - timedelta(days=1),
    )
    sent_at = as_of - timedelta(days=10)
    # The campaign's group: women who bought women's wear in the three months before.
    chosen = sorted(
        ReceiptLine.objects.filter(
            category__parent__code=catalog.WOMENS_WEAR,
            receipt__kind=Receipt.Kind.SALE,
            receipt__member__gender=Member.Gender.FEMALE,
            receipt__occurred_at__gt=sent_at - timedelta(days=90),
            receipt__occurred_at__lte=sent_at,
        )
        .values_list("receipt__member_id", flat=True)
        .distinct()
    )
    issued += coupons_issue_bulk(
        template=dress,
        member_ids=chosen,
        campaign=campaign_get_or_create(channel=Campaign.Channel.GROUP, name="女装季满减"),
        now=sent_at,
    )
    with connection.cursor() as cursor:
        # Each holder's first sale since with 300 yuan or more of women's wear used the coupon.
        cursor.execute(
            """
            UPDATE coupons_coupon c SET status = 'used', used_at = r.occurred_at,
                   used_store_id = r.store_id, used_pos_no = r.pos_no, used_receipt_id = r.id,
                   discount_fen = %(off)s
            FROM (SELECT DISTINCT ON (r.member_id) r.id, r.member_id, r.occurred_at,
                         r.store_id, r.pos_no
                  FROM loyalty_receipt r
                  JOIN loyalty_receiptline l ON l.receipt_id = r.id
                  JOIN loyalty_category k ON k.id = l.category_id
                  WHERE r.kind = 'sale' AND r.occurred_at > %(since)s
                    AND k.parent_id IN (SELECT category_id FROM coupons_coupontemplate_categories
                                        WHERE coupontemplate_id = %(template)s)
                  GROUP BY r.id
                  HAVING sum(l.amount_fen) >= %(min)s
                  ORDER BY r.member_id, r.occurred_at) r
            WHERE c.template_id = %(template)s AND c.member_id = r.member_id
              AND r.occurred_at < c.valid_until
            """,
            {
                "off": dress.face_value_fen,
                "min": dress.min_spend_fen,
                "since": sent_at,
                "template": dress.pk,
            },
        )
    return len(issued)
