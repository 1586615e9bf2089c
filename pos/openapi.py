"""The POS API's OpenAPI document, built from the same pydantic models that validate the
requests, so the document cannot drift from the code (a test compares it with docs/)."""

from coupons.rules import VERIFY_REFUSALS
from members.cards import CARD_NO_PATTERN
from pos.bodies import ReceiptBody, VerifyBody
from pos.signing import MAX_BODY, NONCE_TTL, TIMESTAMP_SKEW

SIGNED = [{"posTerminal": [], "posTimestamp": [], "posNonce": [], "posSignature": []}]

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {"type": "string"},
        "fields": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": 'Field errors keyed by path, e.g. "lines.0.qty".',
        },
    },
}

RECEIPT_RESULT = {
    "type": "object",
    "required": ["receipt_id", "card_no", "points_earned", "points_balance", "tier", "coupons"],
    "properties": {
        "receipt_id": {"type": "integer"},
        "card_no": {"type": ["string", "null"]},
        "points_earned": {
            "type": "integer",
            "description": "Negative for a refund: the points taken back.",
        },
        "points_balance": {"type": ["integer", "null"]},
        "tier": {"type": ["string", "null"]},
        "coupons": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["code", "status", "discount_fen"],
                "properties": {
                    "code": {"type": "string"},
                    "status": {"const": "used"},
                    "discount_fen": {"type": "integer"},
                },
            },
        },
    },
}


def _json(schema, description):
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description):
    return _json({"$ref": "#/components/schemas/Error"}, description)


def pos_openapi() -> dict:
    components = {}
    for name, model in (("ReceiptBody", ReceiptBody), ("VerifyBody", VerifyBody)):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(schema.pop("$defs", {}))
        components[name] = schema
    components["Error"] = ERROR
    components["ReceiptResult"] = RECEIPT_RESULT
    auth_errors = {
        "401": _error(
            "Missing or bad signature, stale timestamp, reused nonce, unknown or inactive terminal"
        ),
    }
    # What every signed endpoint answers before it reads the body (pos.api.pos_api).
    transport_errors = {
        "411": _error("A chunked body: send Content-Length"),
        "413": _error("Body larger than allowed"),
    }
    # What the write endpoints answer when the database kept aborting the write (core.retry).
    busy = {
        "503": {
            **_error(
                "The database is too busy to take the write now (deadlocks kept aborting it):"
                " nothing was written; send the same request again after Retry-After seconds"
            ),
            "headers": {"Retry-After": {"schema": {"type": "integer"}}},
        }
    }
    header = {"type": "apiKey", "in": "header"}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "会员系统 POS API",
            "version": "1",
            "description": (
                "For tills. Every request is signed: X-Pos-Signature is the lowercase hex"
                " HMAC-SHA256, keyed with the terminal's secret, of METHOD, PATH, TIMESTAMP,"
                " NONCE and the hex SHA-256 of the raw body, joined by newlines. PATH is the"
                " request target as sent (with ?query when there is one). Timestamps more than"
                f" {TIMESTAMP_SKEW} s from the server clock and nonces seen in the last"
                f" {NONCE_TTL // 60} minutes are refused. Bodies are UTF-8 JSON of at most"
                f" {MAX_BODY // 1024} KiB; duplicate keys, NaN and Infinity are refused. Money"
                " is integer fen. A retry must send the same receipt again (new nonce and"
                " timestamp): the answer is the first one, with Idempotent-Replayed: true. The"
                " member code shown on the card page is valid for 90 seconds: resolve it when"
                " it is scanned and send the card_no with the receipt. Every answer is JSON,"
                ' errors included ({"error": …, "fields": …}); text holding NUL'
                " (\\u0000) is refused with the field named."
            ),
        },
        "servers": [{"url": "/api/pos/v1"}],
        "components": {
            "schemas": components,
            "securitySchemes": {
                "posTerminal": {**header, "name": "X-Pos-Terminal"},
                "posTimestamp": {**header, "name": "X-Pos-Timestamp"},
                "posNonce": {**header, "name": "X-Pos-Nonce"},
                "posSignature": {**header, "name": "X-Pos-Signature"},
            },
        },
        "security": SIGNED,
        "paths": {
            "/receipts": {
                "post": {
                    "summary": "Record a sale or a refund and earn (or take back) points",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/ReceiptBody"}
                            }
                        },
                    },
                    "responses": {
                        "201": _json({"$ref": "#/components/schemas/ReceiptResult"}, "Recorded"),
                        "200": {
                            **_json(
                                {"$ref": "#/components/schemas/ReceiptResult"},
                                "The same receipt was recorded before: the first answer",
                            ),
                            "headers": {"Idempotent-Replayed": {"schema": {"type": "string"}}},
                        },
                        "400": _error("Invalid body, unknown store or member, sums that differ"),
                        **auth_errors,
                        "403": _error("The terminal belongs to another store"),
                        "409": _error(
                            "Another receipt with this store, POS and receipt number exists"
                        ),
                        **transport_errors,
                        **busy,
                    },
                }
            },
            "/coupons/verify": {
                "post": {
                    "summary": "Verify and use (核销) a member's coupon against a basket",
                    "description": (
                        "Checks owner, state, validity, scope and threshold, then uses the"
                        " coupon once, recording store, POS, cashier and time. The same"
                        " request_id from the same terminal gets the first answer again."
                        " `cashier` is optional. A receipt posted later with the code in"
                        " `coupons` is linked to this use."
                    ),
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/VerifyBody"}
                            }
                        },
                    },
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "required": ["code", "discount_fen", "status"],
                                "properties": {
                                    "code": {"type": "string"},
                                    "discount_fen": {"type": "integer"},
                                    "status": {"const": "used"},
                                },
                            },
                            "Used",
                        ),
                        "400": _error("Invalid body, unknown store or member"),
                        **auth_errors,
                        "403": _error("The terminal belongs to another store"),
                        "409": _json(
                            {
                                "type": "object",
                                "required": ["error"],
                                "properties": {"error": {"enum": VERIFY_REFUSALS}},
                            },
                            "Refused, with the reason (not_yet_valid: before its validity)",
                        ),
                        **transport_errors,
                        **busy,
                    },
                }
            },
            "/members/resolve": {
                "get": {
                    "summary": "The member behind a scanned code, a card number or a phone",
                    "parameters": [
                        {"name": "qr_token", "in": "query", "schema": {"type": "string"}},
                        {
                            "name": "card_no",
                            "in": "query",
                            "schema": {"type": "string", "pattern": CARD_NO_PATTERN},
                        },
                        {"name": "phone", "in": "query", "schema": {"type": "string"}},
                    ],
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "required": ["card_no", "name_masked", "tier", "points_balance"],
                                "properties": {
                                    "card_no": {"type": "string"},
                                    "name_masked": {"type": "string"},
                                    "tier": {"type": ["string", "null"]},
                                    "points_balance": {"type": "integer"},
                                },
                            },
                            "Found",
                        ),
                        "400": _error(
                            "Give exactly one of qr_token, card_no or phone; a malformed card_no"
                        ),
                        **auth_errors,
                        "404": _error("No active member"),
                        "429": _error(
                            "Too many lookups by this terminal: retry after Retry-After seconds"
                            " (lookups by phone are audited)"
                        ),
                        **transport_errors,
                    },
                }
            },
        },
    }
