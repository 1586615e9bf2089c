"""The member card (会员卡): the card page in its admin-chosen layout and the till code it
refreshes every minute."""

from urllib.parse import urlencode

from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.tablecache import table_cached
from members.card_codes import REFRESH_SECONDS, barcode_svg, card_code_issue, qr_svg
from members.card_sections import card_sections_html
from members.messaging import unread_count
from members.models import CardPageSettings, MenuButton
from members.session import current_identity, member_required


def _card_code_payload(member) -> dict:
    card_code = card_code_issue(member=member)
    return {
        "code": card_code.code,
        "qr_svg": qr_svg(card_code.code),
        "barcode_svg": barcode_svg(card_code.code),
        "refresh_seconds": REFRESH_SECONDS,
    }


def card_page_config() -> tuple[str, list[MenuButton]]:
    """The card page's layout and visible menu buttons, kept per process until staff edit
    either (core/tablecache.py)."""
    return table_cached(
        "members:card_page",
        lambda: (
            CardPageSettings.current().layout,
            list(MenuButton.objects.filter(visible=True)),
        ),
    )


USERINFO_TRIED_KEY = "wechat_userinfo_tried"
SIMPLE_MENU_BUTTONS = 4  # 简化版: one row of the function menu


@member_required
def member_home(request):
    identity = current_identity(request)
    if identity.profile_fetched_at is None and not request.session.get(USERINFO_TRIED_KEY):
        # Avatar and nickname need the snsapi_userinfo round trip; asked once per session.
        request.session[USERINFO_TRIED_KEY] = True
        query = urlencode({"scope": "userinfo", "next": request.get_full_path()})
        return redirect(f"{reverse('h5:wechat_login')}?{query}")
    layout, menu = card_page_config()
    if layout == CardPageSettings.Layout.SIMPLE:
        menu = menu[:SIMPLE_MENU_BUTTONS]
    return render(
        request,
        "h5/members/home.html",
        {
            "member": request.member,
            "identity": identity,
            "layout": layout,
            "menu": menu,
            "unread": unread_count(member=request.member),
            "card_code": _card_code_payload(request.member),
            "tab": "card",
            # 完整版 only: recommendations and the like from higher apps
            "sections": card_sections_html(request, request.member)
            if layout == CardPageSettings.Layout.FULL
            else [],
        },
    )


@never_cache
@require_GET
@member_required
def member_card_code(request):
    """A fresh till code for the signed-in member; the card page calls it every minute."""
    return JsonResponse(_card_code_payload(request.member))
