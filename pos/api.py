"""POS API views (/api/pos/v1/…): authenticate, parse, call one service, answer JSON."""

from functools import wraps

from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from core.exceptions import DatabaseBusy
from core.masking import mask_name
from coupons.redeeming import basket_lines, coupon_verify_request
from loyalty.ledger import points_standing
from loyalty.receipts import LineIn, ReceiptConflict, ReceiptIn, ReceiptInvalid, receipt_replay
from loyalty.tables import stores_by_code
from members.card_codes import card_code_resolve
from members.cards import card_no_is_valid
from members.models import Member
from pos.bodies import BodyError, ReceiptBody, VerifyBody, parse_json, validated
from pos.services import pos_member_resolve, pos_receipt_record
from pos.signing import MAX_BODY, PosAuthError, pos_authenticate, pos_rate_wait
from stores.models import Store


def _error(status: int, error: str, fields: dict | None = None) -> JsonResponse:
    body = {"error": error}
    if fields:
        body["fields"] = fields
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


def database_busy() -> JsonResponse:
    """503 when the database kept aborting the write (core.retry gave up): nothing was
    written, the till may send the same request again (receipts and verifies are idempotent)."""
    response = _error(503, "database_busy")
    response["Retry-After"] = "1"
    return response


def pos_api(view):
    """Signed requests only (401/403 with a JSON reason); the terminal is request.terminal.
    A database too busy to take the write is a 503 with Retry-After."""

    @csrf_exempt
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        length = request.META.get("CONTENT_LENGTH") or ""
        if length and not (length.isascii() and length.isdigit()):
            return _error(400, "bad Content-Length")
        if not length and request.META.get("HTTP_TRANSFER_ENCODING"):
            # A chunked body (Transfer-Encoding, no Content-Length) reaches Django empty under
            # WSGI: say so rather than fail its signature.
            return _error(411, "Content-Length required (no chunked bodies)")
        if int(length or 0) > MAX_BODY:
            return _error(413, "body too large")
        try:
            request.terminal = pos_authenticate(request)
        except PosAuthError as exc:
            return _error(exc.status, exc.reason)
        try:
            return view(request, *args, **kwargs)
        except BodyError as exc:
            return _error(400, exc.error, exc.fields)
        except PosAuthError as exc:
            return _error(exc.status, exc.reason)
        except DatabaseBusy:
            return database_busy()

    return wrapper


def pos_body(request, model):
    """The request's JSON body validated as `model`; BodyError (400) otherwise."""
    if request.content_type != "application/json":
        raise BodyError("Content-Type must be application/json")
    return validated(model, parse_json(request.body))


def pos_store(request, code: str) -> Store:
    """The store a body names: 400 if unknown, 403 if not the signing terminal's."""
    store = stores_by_code().get(code)
    if store is None:
        raise BodyError("unknown store", {"store": "no store with this code"})
    if store.pk != request.terminal.store_id:
        raise PosAuthError("terminal_not_for_this_store", status=403)
    return store


def member_from_ref(ref) -> Member | None:
    """The active member a receipt's member reference names; BodyError if none."""
    if ref is None:
        return None
    if ref.qr_token:
        member = card_code_resolve(code=ref.qr_token)
        field, reason = "member.qr_token", "unknown or expired member code"
    elif ref.card_no:  # the till's usual way: in SQL
        found = Member.objects.raw(
            "SELECT * FROM members_member WHERE card_no = %s AND status = %s LIMIT 1",
            [ref.card_no, Member.Status.ACTIVE],
        )
        member = next(iter(found), None)
        field, reason = "member.card_no", "no active member with this card number"
    else:
        member = Member.objects.filter(phone=ref.phone, status=Member.Status.ACTIVE).first()
        field, reason = "member.phone", "no active member with this phone"
    if member is None:
        raise BodyError("unknown member", {field: reason})
    return member


@require_POST
@pos_api
def receipts(request):
    body = pos_body(request, ReceiptBody)
    store = pos_store(request, body.store)
    payload_hash = body.payload_hash()
    try:
        replay = receipt_replay(
            store=store, pos_no=body.pos_no, receipt_no=body.receipt_no, payload_hash=payload_hash
        )
        if replay is None:
            data = ReceiptIn(
                store=store,
                pos_no=body.pos_no,
                receipt_no=body.receipt_no,
                occurred_at=body.occurred,
                member=member_from_ref(body.member),
                lines=[LineIn(**line.model_dump()) for line in body.lines],
                total_fen=body.total_fen,
                payments=[(p.method, p.amount_fen) for p in body.payments],
                refund_of=body.refund_of,
            )
            receipt, created = pos_receipt_record(
                data=data,
                coupons=body.coupons,
                payload_hash=payload_hash,
                terminal=request.terminal,
                replay_checked=True,
            )
        else:
            receipt, created = replay, False
    except ReceiptConflict as exc:
        return _error(409, str(exc.message))
    except ReceiptInvalid as exc:
        return _error(400, "invalid receipt", exc.fields)
    response = JsonResponse(
        receipt.response, status=201 if created else 200, json_dumps_params={"ensure_ascii": False}
    )
    if not created:
        response["Idempotent-Replayed"] = "true"
    return response


@require_GET
@pos_api
def member_resolve(request):
    """The member behind a till scan (qr_token), a card number or a phone, masked."""
    given = {k: v for k, v in request.GET.items() if k in {"qr_token", "card_no", "phone"} and v}
    if len(given) != 1:
        raise BodyError("give exactly one of qr_token, card_no or phone")
    ((name, value),) = given.items()
    if name == "card_no" and not card_no_is_valid(value):
        raise BodyError("invalid card_no", {"card_no": "1 to 32 of A-Z a-z 0-9 -"})
    wait = pos_rate_wait(
        terminal=request.terminal,
        action="resolve",
        limit=settings.POS_RESOLVE_RATE_LIMIT,
        window=settings.POS_RESOLVE_RATE_WINDOW,
    )
    if wait:
        response = _error(429, "too_many_requests")
        response["Retry-After"] = str(wait)
        return response
    member = pos_member_resolve(terminal=request.terminal, by=name, value=value)
    if member is None:
        return _error(404, "member_not_found")
    balance, tier = points_standing(member_id=member.pk)
    return JsonResponse(
        {
            "card_no": member.card_no,
            "name_masked": mask_name(member.name),
            "tier": tier.name if tier else None,
            "points_balance": balance,
        },
        json_dumps_params={"ensure_ascii": False},
    )


@require_POST
@pos_api
def coupon_verify_view(request):
    """A till verifies (核销) a coupon, signed like receipts."""
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
