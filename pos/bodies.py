"""The POS API's request bodies (DESIGN.md, "POS API"): strict JSON parsing and the
pydantic models of the receipt, verify and resolve bodies, with field paths for errors."""

import hashlib
import json
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from django.conf import settings
from django.utils import timezone
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from loyalty.earning import PAYMENT_METHODS
from loyalty.receipts import FUTURE_SLACK, MAX_FEN, receipt_earn_window_start
from members.cards import CARD_NO_PATTERN
from pos.signing import MAX_BODY


class BodyError(Exception):
    def __init__(self, error: str, fields: dict[str, str] | None = None):
        self.error, self.fields = error, fields or {}
        super().__init__(error)


def _no_duplicate_keys(pairs):
    keys = [key for key, _value in pairs]
    if len(keys) != len(set(keys)):
        raise BodyError("duplicate keys in a JSON object")
    return dict(pairs)


def _no_constants(name):
    raise BodyError(f"{name} is not a number here")


def parse_json(body: bytes) -> dict:
    """The raw body as JSON: UTF-8, one object, no duplicate keys, no NaN or Infinity, and
    numbers with a fraction kept exact (Decimal)."""
    if len(body) > MAX_BODY:
        raise BodyError("body too large")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BodyError("body is not UTF-8") from None
    try:
        data = json.loads(
            text,
            object_pairs_hook=_no_duplicate_keys,
            parse_float=Decimal,
            parse_constant=_no_constants,
        )
    except (ValueError, RecursionError):
        raise BodyError("body is not valid JSON") from None
    if not isinstance(data, dict):
        raise BodyError("body must be a JSON object")
    where = _nul_path(data)
    if where is not None:
        raise BodyError("invalid body", {where: "contains a NUL character"})
    return data


def _nul_path(data) -> str | None:
    """The path ("lines.0.name") of a string holding a NUL character, None if none: JSON may
    escape one as \\u0000, but Postgres cannot store it in text. A loop, not recursion: the
    body may be nested as deep as the parser allows."""
    stack = [("", data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return path or "body"
            continue
        if isinstance(value, dict):
            items = value.items()
        elif isinstance(value, list):
            items = enumerate(value)
        else:
            continue
        for key, item in items:
            here = f"{path}.{key}" if path else str(key)
            if "\x00" in here:
                return here.replace("\x00", "\\u0000")
            stack.append((here, item))
    return None


Code = Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_\-./]{1,64}$")]
# JSON Schema counts 100.0 as an integer; the server does not: amounts are written 100.
Fen = Annotated[
    StrictInt,
    Field(
        ge=0, le=MAX_FEN, description="Integer fen, written without a fraction (100, not 100.0)."
    ),
]
Text = Annotated[StrictStr, Field(max_length=64)]
# Any card number (members/cards.py): the mall's imported ones as well as the system's own.
CardNo = Annotated[StrictStr, Field(pattern=CARD_NO_PATTERN)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class MemberRef(Strict):
    # Exactly one key holds a string (the others absent or null), as _exactly_one checks.
    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {"required": [name], "properties": {name: {"type": "string"}}}
                for name in ("qr_token", "card_no", "phone")
            ]
        }
    )

    qr_token: Annotated[StrictStr, Field(min_length=1, max_length=64)] | None = None
    card_no: CardNo | None = None
    phone: Annotated[StrictStr, Field(pattern=r"^1[3-9][0-9]{9}$")] | None = None

    @model_validator(mode="after")
    def _exactly_one(self):
        given = [name for name in ("qr_token", "card_no", "phone") if getattr(self, name)]
        if len(given) != 1:
            raise ValueError("give exactly one of qr_token, card_no or phone")
        return self


class LineBody(Strict):
    sku: Annotated[StrictStr, Field(max_length=32)] = ""
    name: Annotated[StrictStr, Field(min_length=1, max_length=128)]
    spec: Text = ""
    brand: Text = ""
    category: Text = ""
    # A JSON number (never a string or a boolean), above 0, at most 99999, 3 decimals at most
    qty: Annotated[
        Decimal,
        WithJsonSchema(
            {
                "type": "number",
                "exclusiveMinimum": 0,
                "maximum": 99999,
                "multipleOf": 0.001,
                "description": "A JSON number above 0 with at most 3 decimals.",
            }
        ),
    ] = Field(gt=0, le=99999, decimal_places=3)
    amount_fen: Fen
    non_merchandise: StrictBool = False

    @field_validator("qty", mode="before")
    @classmethod
    def _qty_is_a_number(cls, value):
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            raise ValueError("qty must be a number")
        return value


class PaymentBody(Strict):
    method: Literal[tuple(sorted(PAYMENT_METHODS))]
    amount_fen: Fen


class ReceiptBody(Strict):
    store: Annotated[StrictStr, Field(min_length=1, max_length=16)]
    pos_no: Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_-]{1,16}$")]
    receipt_no: Code
    occurred_at: Annotated[
        StrictStr,
        Field(
            json_schema_extra={"format": "date-time"},
            description=(
                "ISO 8601 with an offset. Not more than 10 minutes ahead of the server clock,"
                " and not older than the earning window (RECEIPT_EARN_WINDOW_DAYS, 90 days by"
                " default, counted back from now as an instant)."
            ),
        ),
    ]
    member: MemberRef | None = None
    lines: list[LineBody] = Field(min_length=1, max_length=500)
    payments: list[PaymentBody] = Field(min_length=1, max_length=20)
    total_fen: Fen
    coupons: list[Annotated[StrictStr, Field(min_length=1, max_length=32)]] = Field(
        default_factory=list, max_length=20
    )
    refund_of: Code | None = None

    @field_validator("occurred_at")
    @classmethod
    def _aware_time(cls, value: str) -> str:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(
                "use ISO 8601 with an offset, e.g. 2026-11-23T10:15:00+08:00"
            ) from None
        if moment.tzinfo is None:
            raise ValueError("the time needs an offset, e.g. +08:00")
        if moment > timezone.now() + FUTURE_SLACK:
            raise ValueError("the time is in the future")
        if moment.year < 2000:
            raise ValueError("the time is before 2000")
        if moment < receipt_earn_window_start():
            raise ValueError(
                f"the receipt is older than {settings.RECEIPT_EARN_WINDOW_DAYS} days:"
                " too old to earn points (record history with import_receipts)"
            )
        return value

    @property
    def occurred(self) -> datetime:
        return datetime.fromisoformat(self.occurred_at)

    def payload_hash(self) -> str:
        """A digest of the content, to tell a till's retry from another receipt reusing the
        number: the same content hashes the same whatever the key order or spacing."""
        data = self.model_dump(mode="json")
        for line in data["lines"]:
            line["qty"] = str(Decimal(line["qty"]).normalize())
        data["occurred_at"] = self.occurred.timestamp()
        text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


def validated(model: type[BaseModel], data: dict):
    """`data` as `model`, or BodyError with the field errors keyed like "lines.0.qty"."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        fields = {}
        for error in exc.errors(include_url=False):
            path = ".".join(str(part) for part in error["loc"]) or "body"
            message = error["msg"].removeprefix("Value error, ")
            fields.setdefault(path, message)
        raise BodyError("invalid body", fields) from None


class VerifyBody(Strict):
    store: Annotated[StrictStr, Field(min_length=1, max_length=16)]
    pos_no: Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_-]{1,16}$")]
    request_id: Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
    code: Annotated[StrictStr, Field(min_length=1, max_length=32)]
    member: MemberRef | None = None
    basket_fen: Fen
    lines: list[LineBody] = Field(default_factory=list, max_length=500)
    cashier: Annotated[StrictStr, Field(max_length=32)] = ""  # optional, recorded
