"""抽奖活动 pages: the member's list, wheel/grid page, draw JSON and my draws; the back
office's campaigns, editor (frozen after the start), figures with audit, on-site winners and
the desk's hand-over."""

import io
import re
import uuid
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from PIL import Image

from loyalty.ledger import points_balance
from loyalty.models import PointsEntry
from mall import lottery
from mall.models import LotteryCampaign, LotteryDraw, LotteryOnSiteWinner
from members.models import Message
from tests.conftest import once
from tests.mall.lottery_factories import give_points, running_campaign
from tests.members.factories import MemberFactory, signed_in_as

MUG_ONLY = [{"name": "马克杯", "kind": "goods", "weight": 10, "stock": 5, "value_fen": 3900}]


@pytest.fixture
def member(store):
    member = MemberFactory(home_store=store, name="王芳")
    give_points(member, 100)
    return member


@pytest.fixture
def signed_in(client, member):
    return signed_in_as(client, member)


def _key():
    return str(uuid.uuid4())


def _draw(client, campaign, key=None):
    return client.post(
        f"/m/lottery/{campaign.pk}/draw/", headers={"X-Idempotency-Key": key or _key()}
    )


# --- Member pages ---------------------------------------------------------------------------


def test_the_list_shows_current_and_upcoming_published_campaigns(signed_in):
    running_campaign(name="双旦抽奖")
    now = timezone.now()
    running_campaign(
        name="元宵抽奖", starts_at=now + timedelta(days=3), ends_at=now + timedelta(days=9)
    )
    running_campaign(name="草稿抽奖", published=False)

    html = signed_in.get("/m/lottery/").content.decode()

    assert "抽奖活动" in html and "即将开始" in html
    current, upcoming = html.split("data-upcoming")
    assert "双旦抽奖" in current and "元宵抽奖" in upcoming
    assert "去抽奖" in current and "去抽奖" not in upcoming
    assert "草稿抽奖" not in html


def test_the_grid_page_shows_cells_odds_rules_figures_and_no_refusal(signed_in):
    campaign = running_campaign(style="grid")

    response = signed_in.get(f"/m/lottery/{campaign.pk}/")
    html = response.content.decode()

    assert response.status_code == 200
    assert html.count('class="h5-lt-cell ') == 8  # three prizes repeated round the button
    assert "50.00%" in html and "10.00%" in html and "40.00%" in html
    assert "每次抽奖消耗 10 积分。" in html and "请到一楼服务台领取。" in html
    assert "data-balance>100<" in html and "data-draws-left>3<" in html
    assert "奖品及中奖概率" in html and "参与人数" in html and "领奖方式" in html
    assert "data-draw disabled" not in html and 'data-refusal role="status" hidden' in html


def test_the_wheel_page_draws_one_slice_per_prize_and_a_no_prize_slice(signed_in):
    campaign = running_campaign(prizes=MUG_ONLY)

    html = signed_in.get(f"/m/lottery/{campaign.pk}/").content.decode()

    assert "<svg" in html and html.count("h5-lt-wheel__slice") == 2
    assert "谢谢参与" in html  # where a draw of a prize that ran out meanwhile stops


def test_a_draw_answers_the_prize_its_cell_the_pickup_code_and_spends_points(signed_in, member):
    campaign = running_campaign(prizes=MUG_ONLY, style="grid")

    response = _draw(signed_in, campaign)

    assert response.status_code == 200
    data = response.json()
    draw = LotteryDraw.objects.get(pk=data["draw_id"])
    assert data["prize_id"] == draw.prize_id and data["prize_name"] == "马克杯"
    assert data["kind"] == "goods" and data["won"] is True
    assert data["index"] in (0, 2, 4, 6)  # the mug's cells (the mug and 谢谢参与 alternate)
    assert data["pickup_code"] == draw.pickup_code and data["claim_rules"] == "请到一楼服务台领取。"
    assert data["balance"] == 90 == points_balance(member_id=member.pk)
    assert data["draws_left"] == 2
    assert data["totals"] == {"participants": 1, "draws": 1, "winners": 1}
    assert "马克杯" in data["message"]
    message = Message.objects.get(member=member, kind=Message.Kind.LOTTERY)
    assert message.link == "/m/lottery/draws/"  # the inbox's 抽奖 message opens 我的抽奖
    entry = PointsEntry.objects.get(key=draw.ledger_key)
    assert entry.kind == PointsEntry.Kind.LOTTERY and entry.points == -10


def test_a_no_prize_draw_stops_on_the_no_prize_cell(signed_in):
    campaign = running_campaign(
        prizes=[
            {"name": "马克杯", "kind": "goods", "weight": 1, "stock": 1},
            {"name": "谢谢参与", "kind": "nothing", "weight": 1_000_000, "stock": None},
        ]
    )
    nothing = campaign.prizes.get(kind="nothing")

    data = _draw(signed_in, campaign).json()

    assert data["prize_id"] is None and data["kind"] == "nothing" and data["won"] is False
    assert data["index"] == 1 == nothing.position  # the wheel's 谢谢参与 slice
    assert "pickup_code" not in data


def test_a_draw_stops_on_the_no_prize_cell_its_roll_gave(signed_in):
    campaign = running_campaign(
        prizes=[
            {"name": "马克杯", "kind": "goods", "weight": 1, "stock": 1},
            {"name": "谢谢参与", "kind": "nothing", "weight": 1, "stock": None},
            {"name": "再接再厉", "kind": "nothing", "weight": 1_000_000, "stock": None},
        ]
    )

    data = _draw(signed_in, campaign).json()

    assert data["prize_id"] is None and data["index"] == 2  # 再接再厉, not the first one


def test_the_same_key_again_returns_the_first_draw_and_charges_once(signed_in, member):
    campaign = running_campaign(prizes=MUG_ONLY)
    key = _key()

    first = _draw(signed_in, campaign, key).json()
    again = _draw(signed_in, campaign, key).json()

    assert again["draw_id"] == first["draw_id"]
    assert points_balance(member_id=member.pk) == 90
    assert LotteryDraw.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"starts_at_in_days": 2}, "not_started"),
        ({"ends_at_in_days": -1}, "ended"),
        ({"points_per_draw": 500}, "insufficient_points"),
    ],
)
def test_refusals_answer_409_with_the_reason_and_the_page_disables_the_button(
    signed_in, member, fields, code
):
    now = timezone.now()
    values = {}
    if "starts_at_in_days" in fields:
        values = {"starts_at": now + timedelta(days=2), "ends_at": now + timedelta(days=5)}
    elif "ends_at_in_days" in fields:
        values = {"starts_at": now - timedelta(days=5), "ends_at": now - timedelta(days=1)}
    else:
        values = fields
    campaign = running_campaign(prizes=MUG_ONLY, **values)

    response = _draw(signed_in, campaign)
    page = signed_in.get(f"/m/lottery/{campaign.pk}/").content.decode()

    assert response.status_code == 409
    assert response.json()["code"] == code and response.json()["error"]
    assert "data-draw disabled" in page
    assert response.json()["error"] in page  # the reason, up front
    assert points_balance(member_id=member.pk) == 100
    assert not LotteryDraw.objects.exists()


def test_the_daily_limit_refuses_the_next_draw(signed_in):
    campaign = running_campaign(prizes=MUG_ONLY, daily_limit=1)

    assert _draw(signed_in, campaign).status_code == 200
    second = _draw(signed_in, campaign)

    assert second.status_code == 409 and second.json()["code"] == "daily_limit"
    assert _draw(signed_in, campaign).json()["code"] == "daily_limit"


def test_bad_input_is_a_400_or_404_never_a_500(signed_in):
    campaign = running_campaign(prizes=MUG_ONLY)
    draft = running_campaign(prizes=MUG_ONLY, published=False)

    missing = signed_in.post(f"/m/lottery/{campaign.pk}/draw/")
    short = _draw(signed_in, campaign, key="abc")
    odd = _draw(signed_in, campaign, key="x" * 20 + "<script>")
    unpublished = _draw(signed_in, draft)
    nowhere = _draw(signed_in, LotteryCampaign(pk=999_999))

    assert missing.status_code == short.status_code == odd.status_code == 400
    assert missing.json()["code"] == "bad_key"
    assert unpublished.status_code == nowhere.status_code == 404
    assert signed_in.get(f"/m/lottery/{campaign.pk}/draw/").status_code == 405
    assert signed_in.get(f"/m/lottery/{draft.pk}/").status_code == 404
    assert not LotteryDraw.objects.exists()


def test_the_draw_needs_the_csrf_token_and_a_signed_in_member(member):
    campaign = running_campaign(prizes=MUG_ONLY)
    strict = signed_in_as(Client(enforce_csrf_checks=True), member, openid="o_csrf")

    refused = _draw(strict, campaign)
    page = strict.get(f"/m/lottery/{campaign.pk}/")
    token = page.cookies["csrftoken"].value
    allowed = strict.post(
        f"/m/lottery/{campaign.pk}/draw/",
        headers={"X-Idempotency-Key": _key(), "X-CSRFToken": token},
    )
    stranger = _draw(Client(), campaign)

    assert refused.status_code == 403
    assert allowed.status_code == 200
    assert stranger.status_code == 403 and stranger.json()["code"] == "signed_out"
    assert LotteryDraw.objects.count() == 1


def test_my_draws_shows_the_members_own_draws_with_pickup_codes(signed_in, member, store):
    campaign = running_campaign(prizes=MUG_ONLY)
    mine = lottery.lottery_draw(member=member, campaign=campaign, idempotency_key=_key())
    other = MemberFactory(home_store=store)
    give_points(other, 100)
    theirs = lottery.lottery_draw(member=other, campaign=campaign, idempotency_key=_key())

    html = signed_in.get("/m/lottery/draws/").content.decode()

    assert "我的抽奖" in html and "马克杯" in html and "待领取" in html
    assert f'data-pickup-code="{mine.pickup_code}"' in html
    assert theirs.pickup_code not in html and f'data-draw-row="{theirs.pk}"' not in html


def test_another_stores_campaign_is_refused_with_the_reason(signed_in):
    from tests.stores.factories import StoreFactory

    elsewhere = running_campaign(prizes=MUG_ONLY, store=StoreFactory(code="S09", name="滨江店"))

    response = _draw(signed_in, elsewhere)

    assert response.status_code == 409 and response.json()["code"] == "wrong_store"


def test_an_on_site_winner_shows_as_such_in_the_ticker_and_not_in_the_totals(
    signed_in, member, staff_user
):
    campaign = running_campaign(prizes=MUG_ONLY)
    lottery.lottery_draw(member=member, campaign=campaign, idempotency_key=_key())
    lottery.on_site_winner_record(
        campaign=campaign,
        actor=staff_user("marketing"),
        prize_name="电饭煲",
        winner_name="李建国",
        drawn_at=timezone.now() - timedelta(minutes=5),
    )

    html = signed_in.get(f"/m/lottery/{campaign.pk}/").content.decode()

    assert len(re.findall(r"data-winner[ >]", html)) == 2
    assert "现场抽奖" in html and "李**" in html and "电饭煲" in html
    assert "王*" in html and "王芳" not in html.split("data-winners")[1]
    assert 'data-total="participants">1<' in html and 'data-total="winners">1<' in html


# --- Back office ----------------------------------------------------------------------------


def _campaign_post(**overrides) -> dict:
    start = timezone.localtime() + timedelta(days=2)
    data = {
        "name": "春节抽奖",
        "store": "",
        "style": "grid",
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"),
        "points_per_draw": "20",
        "daily_limit": "3",
        "total_limit": "0",
        "rules": "每次抽奖消耗 20 积分。",
        "claim_rules": "请到服务台领取。",
        "claim_days": "30",
        "prizes-TOTAL_FORMS": "2",
        "prizes-INITIAL_FORMS": "0",
        "prizes-MIN_NUM_FORMS": "1",
        "prizes-MAX_NUM_FORMS": "1000",
        "prizes-0-name": "电饭煲",
        "prizes-0-kind": "goods",
        "prizes-0-weight": "5",
        "prizes-0-initial_stock": "3",
        "prizes-0-points": "0",
        "prizes-0-value_yuan": "399.00",
        "prizes-1-name": "谢谢参与",
        "prizes-1-kind": "nothing",
        "prizes-1-weight": "95",
        "prizes-1-initial_stock": "",
        "prizes-1-points": "0",
        "prizes-1-value_yuan": "0",
    }
    return data | overrides


def test_back_office_pages_need_the_lottery_permissions(client, staff_user):
    campaign = running_campaign()
    urls = [
        "/backoffice/mall/lottery/",
        "/backoffice/mall/lottery/new/",
        f"/backoffice/mall/lottery/{campaign.pk}/",
        f"/backoffice/mall/lottery/{campaign.pk}/edit/",
    ]
    assert client.get(urls[0]).status_code == 302  # to the login

    client.force_login(staff_user("analyst"))
    assert [client.get(url).status_code for url in urls] == [403] * 4

    client.force_login(staff_user("marketing"))
    assert [client.get(url).status_code for url in urls] == [200] * 4
    page = client.get(urls[0]).content.decode()
    assert "抽奖活动" in page and "双旦抽奖" in page and "进行中" in page


def test_marketing_creates_a_campaign_with_prizes_and_publishes_it(client, staff_user):
    client.force_login(staff_user("marketing"))

    image = io.BytesIO()
    Image.new("RGB", (64, 64), "#c0392b").save(image, "PNG")
    picture = SimpleUploadedFile("cooker.png", image.getvalue(), content_type="image/png")

    response = client.post(
        "/backoffice/mall/lottery/new/",
        _campaign_post(**{"prizes-0-image": picture}) | once(),
    )

    campaign = LotteryCampaign.objects.get(name="春节抽奖")
    assert response.status_code == 302 and response["Location"].endswith(
        f"/lottery/{campaign.pk}/edit/"
    )
    prizes = list(campaign.prizes.order_by("position"))
    assert [(p.name, p.kind, p.weight, p.stock, p.value_fen) for p in prizes] == [
        ("电饭煲", "goods", 5, 3, 39900),
        ("谢谢参与", "nothing", 95, None, 0),
    ]
    assert prizes[0].image.name.startswith("mall/lottery/") and not prizes[1].image
    edit = client.get(response["Location"]).content.decode()
    assert "5.00%" in edit and "95.00%" in edit and "发布" in edit

    client.post(f"/backoffice/mall/lottery/{campaign.pk}/publish/")
    campaign.refresh_from_db()
    assert campaign.published_at is not None


def test_a_prize_worth_more_than_50000_yuan_is_a_form_error(client, staff_user):
    client.force_login(staff_user("marketing"))

    response = client.post(
        "/backoffice/mall/lottery/new/",
        _campaign_post(**{"prizes-0-value_yuan": "50000.01"}) | once(),
    )

    assert response.status_code == 400
    assert "单个奖品价值不得超过 ¥50,000。" in response.content.decode()
    assert not LotteryCampaign.objects.exists()


def test_a_prize_needs_its_quantity_points_or_coupon(client, staff_user):
    client.force_login(staff_user("marketing"))

    response = client.post(
        "/backoffice/mall/lottery/new/",
        _campaign_post(**{"prizes-0-initial_stock": "", "prizes-0-kind": "points"}) | once(),
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert "奖品须公布数量。" in html and "这个奖品送多少积分？" in html
    assert not LotteryCampaign.objects.exists()


def test_an_edit_before_the_start_changes_the_prizes(client, staff_user):
    client.force_login(staff_user("marketing"))
    client.post("/backoffice/mall/lottery/new/", _campaign_post() | once())
    campaign = LotteryCampaign.objects.get()
    cooker, nothing = campaign.prizes.order_by("position")
    data = _campaign_post(
        name="春节大抽奖",
        **{
            "prizes-TOTAL_FORMS": "2",
            "prizes-INITIAL_FORMS": "2",
            "prizes-0-id": str(cooker.pk),
            "prizes-0-campaign": str(campaign.pk),
            "prizes-0-weight": "10",
            "prizes-1-id": str(nothing.pk),
            "prizes-1-campaign": str(campaign.pk),
            "prizes-1-DELETE": "on",
        },
    )

    response = client.post(f"/backoffice/mall/lottery/{campaign.pk}/edit/", data)

    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.name == "春节大抽奖"
    assert list(campaign.prizes.values_list("name", "weight")) == [("电饭煲", 10)]


def test_after_the_start_the_editor_is_read_only_and_an_edit_is_refused(client, staff_user):
    campaign = running_campaign()
    prize = campaign.prizes.order_by("position").first()
    client.force_login(staff_user("marketing"))

    page = client.get(f"/backoffice/mall/lottery/{campaign.pk}/edit/").content.decode()
    data = _campaign_post(
        name="改名",
        **{
            "prizes-TOTAL_FORMS": "1",
            "prizes-INITIAL_FORMS": "1",
            "prizes-0-id": str(prize.pk),
            "prizes-0-campaign": str(campaign.pk),
            "prizes-0-weight": "999",
        },
    )
    refused = client.post(f"/backoffice/mall/lottery/{campaign.pk}/edit/", data)
    garbage = client.post(f"/backoffice/mall/lottery/{campaign.pk}/edit/", {"name": ""})

    assert "活动已开始，规则已冻结" in page
    assert 'name="name"' in page and "disabled" in page.split('name="name"')[1].split(">")[0]
    assert "data-save" not in page
    for response in (refused, garbage):
        assert response.status_code == 400
        assert "data-refused" in response.content.decode()
    campaign.refresh_from_db()
    prize.refresh_from_db()
    assert campaign.name == "双旦抽奖" and prize.weight == 50


def test_the_detail_shows_figures_stock_and_the_audited_draws(client, staff_user, member):
    campaign = running_campaign(prizes=MUG_ONLY)
    draw = lottery.lottery_draw(member=member, campaign=campaign, idempotency_key=_key())
    client.force_login(staff_user("marketing"))

    html = client.get(f"/backoffice/mall/lottery/{campaign.pk}/").content.decode()

    draws_card = html.split('data-figure="draws"')[1].split("</div></div>")[0]
    assert "抽奖次数" in draws_card and draws_card.endswith('bo-card__value">1')
    assert "data-stock-left>4<" in html
    assert f"data-roll>{draw.roll}<" in html and f"#{draw.prize_id}:10" in html
    assert 'data-audit="ok"' in html and "王*" in html


def test_staff_record_an_on_site_winner_and_hand_a_prize_over(client, staff_user, member):
    campaign = running_campaign(prizes=MUG_ONLY)
    draw = lottery.lottery_draw(member=member, campaign=campaign, idempotency_key=_key())
    client.force_login(staff_user("marketing"))
    drawn_at = timezone.localtime() - timedelta(minutes=10)

    recorded = client.post(
        f"/backoffice/mall/lottery/{campaign.pk}/on-site/",
        {
            "prize_name": "电饭煲",
            "winner_name": "李建国",
            "drawn_at": drawn_at.strftime("%Y-%m-%dT%H:%M"),
            "card_no": "",
            "note": "中庭现场",
        }
        | once(),
    )
    unknown = client.post(
        "/backoffice/mall/lottery/pickup/", {"code": "00000000", "back": campaign.pk}
    )
    handed = client.post(
        "/backoffice/mall/lottery/pickup/", {"code": draw.pickup_code, "back": campaign.pk}
    )

    assert recorded.status_code == 302
    assert LotteryOnSiteWinner.objects.get().winner_name == "李建国"
    assert unknown.status_code == handed.status_code == 302
    draw.refresh_from_db()
    assert draw.status == LotteryDraw.Status.PICKED_UP
    html = client.get(f"/backoffice/mall/lottery/{campaign.pk}/").content.decode()
    assert "李建国" in html and "现场抽奖" in html


def test_an_on_site_winner_with_an_unknown_card_is_a_form_error(client, staff_user):
    campaign = running_campaign(prizes=MUG_ONLY)
    client.force_login(staff_user("marketing"))

    response = client.post(
        f"/backoffice/mall/lottery/{campaign.pk}/on-site/",
        {
            "prize_name": "电饭煲",
            "winner_name": "李建国",
            "drawn_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "card_no": "NOPE",
        }
        | once(),
    )

    assert response.status_code == 400
    assert "没有会员使用这个卡号。" in response.content.decode()
    assert not LotteryOnSiteWinner.objects.exists()


def test_store_staff_see_their_stores_campaigns_and_not_anothers(client, staff_user, store_b):
    from tests.stores.factories import StoreFactory

    elsewhere = running_campaign(name="滨江店抽奖", store=StoreFactory(code="S09"))
    ours = running_campaign(name="本店抽奖", store=store_b)
    everyone = running_campaign(name="全场抽奖")
    client.force_login(staff_user("marketing", scope="store", store=store_b))

    listed = client.get("/backoffice/mall/lottery/").content.decode()

    assert "本店抽奖" in listed and "全场抽奖" in listed and "滨江店抽奖" not in listed
    assert client.get(f"/backoffice/mall/lottery/{elsewhere.pk}/").status_code == 404
    assert client.get(f"/backoffice/mall/lottery/{elsewhere.pk}/edit/").status_code == 404
    assert client.get(f"/backoffice/mall/lottery/{ours.pk}/").status_code == 200
    assert client.get(f"/backoffice/mall/lottery/{everyone.pk}/").status_code == 200
