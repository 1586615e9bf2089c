"""POST /api/pos/v1/coupons/verify: a till verifies (核销) a coupon, signed like receipts."""

from typing import Annotated

from django.http import JsonResponse
from django.views.decorators.http import require_POST
from pydantic import Field, StrictStr

from coupons.services import basket_lines, coupon_verify_request
from loyalty.api import member_from_ref, pos_api, pos_body, pos_store
from loyalty.pos import Fen, LineBody, MemberRef, Strict


class VerifyBody(Strict):
    store: Annotated[StrictStr, Field(min_length=1, max_length=16)]
    pos_no: Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_-]{1,16}$")]
    request_id: Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
    code: Annotated[StrictStr, Field(min_length=1, max_length=32)]
    member: MemberRef | None = None
    basket_fen: Fen
    lines: list[LineBody] = Field(default_factory=list, max_length=500)
    cashier: Annotated[StrictStr, Field(max_length=32)] = ""  # optional, recorded


@require_POST
@pos_api
def verify(request):
    body = pos_body(request, VerifyBody)
    store = pos_store(request, body.store)
    status, answer = coupon_verify_request(
        terminal=request.terminal,
        request_id=body.request_id,
        code=body.code,
        store=store,
        pos_no=body.pos_no,
        member=member_from_ref(body.member),
        basket_fen=body.basket_fen,
        lines=basket_lines(
            store=store,
            lines=[
                {"brand": x.brand, "category": x.category, "amount_fen": x.amount_fen}
                for x in body.lines
            ],
        ),
        cashier=body.cashier,
    )
    return JsonResponse(answer, status=status)
