"""The admin: templates with scope pickers and checked figures per kind, coupons read-only
but voidable with a reason (through coupon_void), verifications read-only."""

import pytest

from core.models import AuditLog
from core.roles import Role
from coupons.models import Coupon, CouponTemplate

CHANGELIST = "/admin/coupons/coupon/"


@pytest.fixture
def admin_client_of(client, staff_user):
    def login(role, **profile):
        user = staff_user(role, **profile)
        user.is_staff = True
        user.save()
        client.force_login(user)
        return client

    return login


def template_form(**changes):
    data = {
        "code": "spring",
        "name": "春季满减",
        "kind": "threshold",
        "is_active": "on",
        "face_value_fen": "5000",
        "min_spend_fen": "0",
        "percent_off": "0",
        "max_discount_fen": "0",
        "gift_name": "",
        "valid_days": "14",
        "valid_from_0": "",
        "valid_from_1": "",
        "valid_until_0": "",
        "valid_until_1": "",
        "floors_remark": "3F 女装",
        "per_member_limit": "1",
        "total_quantity": "",
        "usage_notes": "",
        "color": "#e64340",
    }
    data.update(changes)
    return data


def test_the_template_form_has_the_scope_pickers(admin_client_of):
    html = admin_client_of(Role.MARKETING).get("/admin/coupons/coupontemplate/add/").content
    html = html.decode()
    for field in ("stores", "floors", "brands", "categories"):
        assert f'id="id_{field}"' in html and "selectfilter" in html


def test_a_template_is_checked_for_its_kind(admin_client_of):
    client = admin_client_of(Role.MARKETING)

    refused = client.post("/admin/coupons/coupontemplate/add/", template_form())
    saved = client.post("/admin/coupons/coupontemplate/add/", template_form(min_spend_fen="30000"))

    assert refused.status_code == 200 and "满减券需要填写使用门槛" in refused.content.decode()
    assert saved.status_code == 302
    assert CouponTemplate.objects.get(code="spring").min_spend_fen == 30000


def test_a_template_needs_a_validity(admin_client_of):
    response = admin_client_of(Role.MARKETING).post(
        "/admin/coupons/coupontemplate/add/",
        template_form(min_spend_fen="30000", valid_days=""),
    )
    assert response.status_code == 200 and not CouponTemplate.objects.exists()


def test_voiding_from_the_list_takes_a_reason_and_is_audited(admin_client_of, make_coupon, member):
    client = admin_client_of(Role.MARKETING)
    fresh, used = make_coupon(member), make_coupon(member, state="used")
    action = {"action": "void_selected", "_selected_action": [fresh.pk, used.pk]}

    client.post(CHANGELIST, {**action, "reason": ""})
    assert Coupon.objects.get(pk=fresh.pk).status == "unused"

    client.post(CHANGELIST, {**action, "reason": "发错会员"})

    fresh.refresh_from_db()
    assert (fresh.status, fresh.void_reason) == ("voided", "发错会员")
    assert Coupon.objects.get(pk=used.pk).status == "used"
    assert AuditLog.objects.filter(action="coupons.coupon.voided").count() == 1


def test_coupons_cannot_be_edited_or_deleted_in_the_admin(admin_client_of, make_coupon, member):
    client = admin_client_of(Role.HQ_ADMIN)
    coupon = make_coupon(member)

    page = client.get(f"{CHANGELIST}{coupon.pk}/change/").content.decode()

    assert page.count('name="status"') == 0 and coupon.code in page
    assert client.get(f"{CHANGELIST}add/").status_code == 403
    assert client.get(f"{CHANGELIST}{coupon.pk}/delete/").status_code == 403


def test_the_service_desk_cannot_void(admin_client_of, make_coupon, member):
    client = admin_client_of(Role.CUSTOMER_SERVICE)
    coupon = make_coupon(member)

    client.post(
        CHANGELIST, {"action": "void_selected", "_selected_action": [coupon.pk], "reason": "x"}
    )

    assert Coupon.objects.get(pk=coupon.pk).status == "unused"


def test_verifications_are_read_only(admin_client_of):
    client = admin_client_of(Role.HQ_ADMIN)
    assert client.get("/admin/coupons/couponverification/").status_code == 200
    assert client.get("/admin/coupons/couponverification/add/").status_code == 403
