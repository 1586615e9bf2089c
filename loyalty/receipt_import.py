"""`manage.py import_receipts FILE.csv`: till receipts from a file (a till that was offline, a
migration), recorded as the POS API records them and earning the same points.

One row per receipt line: store,pos_no,receipt_no,occurred_at,card_no,sku,name,spec,brand,
category,qty,amount_fen,non_merchandise,refund_of (DESIGN.md, "Operator commands"). The rows
of a receipt share (store, pos_no, receipt_no), carry the same occurred_at, card_no and
refund_of, and follow one another (a receipt found in two places is most likely in the file
twice, and is refused rather than doubled). The total is the sum of the lines. Times without
an offset are the mall's (Asia/Shanghai).

Sales older than the earning window (settings.RECEIPT_EARN_WINDOW_DAYS) are recorded, for
analysis, but earn nothing; the summary counts them. A receipt already recorded under its
natural key is skipped, so a file imported again adds
nothing. A receipt with a bad row is rejected whole and each of its rows is reported; the
good receipts are kept. A refund names its sale by receipt number (same store and POS), which
must be recorded already or come earlier in the file, and cannot return more than is left of
it. Lines are linked to categories, brands and SKUs as loyalty.receipts._lines does. Points
go through loyalty.bulk_earning under the API's keys, so nothing is ever earned twice.
"""

import csv
import io
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, connection, transaction
from django.db.models.functions import Upper
from django.utils import timezone

from core.audit import audit_log
from core.csv_import import (
    CONTROL,
    FileInfo,
    Problem,
    RowError,
    csv_rows,
    moment,
    parsed,
    text,
)
from core.exceptions import ServiceError
from loyalty.bulk_earning import receipts_earn
from loyalty.models import Receipt
from loyalty.receipts import (
    CLAIM_HASH_PREFIX,
    CLAIM_POS_NO,
    FUTURE_SLACK,
    MAX_FEN,
    LineIn,
    ReceiptIn,
    claims_lock,
    members_home_store_fill,
    receipt_earn_window_start,
    receipt_record,
)
from loyalty.signals import sale_refunded_in_full
from members.cards import card_no_clean
from members.models import Member
from stores.models import Division, Store

RECEIPT_COLUMNS = (
    "store",
    "pos_no",
    "receipt_no",
    "occurred_at",
    "card_no",
    "sku",
    "name",
    "spec",
    "brand",
    "category",
    "qty",
    "amount_fen",
    "non_merchandise",
    "refund_of",
)
POS_NO = re.compile(r"^[A-Za-z0-9_-]{1,16}$")  # as the POS API accepts them
RECEIPT_NO = re.compile(r"^[A-Za-z0-9_\-./]{1,64}$")
QTY = re.compile(r"^[0-9]{1,5}(\.[0-9]{1,3})?$")
FEN = re.compile(r"^[0-9]{1,11}$")
FLAGS = {
    **dict.fromkeys(("", "0", "false", "f", "no", "n", "否"), False),
    **dict.fromkeys(("1", "true", "t", "yes", "y", "是"), True),
}
MAX_LINES = 500


class ReceiptImportConflict(ServiceError):
    code = "receipt_import_conflict"
    default_message = "A receipt of the file was recorded meanwhile; import the file again."


@dataclass
class ReceiptsImported:
    file: FileInfo
    added: int = 0
    lines: int = 0
    skipped: int = 0  # receipts already recorded
    linked_to_claims: int = 0  # sales an approved claim recorded first: no points again
    too_old: int = 0  # sales of members recorded without points: before the earning window
    members_created: int = 0
    entries: int = 0
    points: int = 0
    seconds: float = 0.0
    problems: list[Problem] = field(default_factory=list)


@dataclass
class _Receipt:
    store: str
    pos_no: str
    receipt_no: str
    header: tuple[str, str, str]  # occurred_at, card_no, refund_of as written
    rows: list[int] = field(default_factory=list)  # file lines
    lines: list[tuple] = field(default_factory=list)  # sku, name, spec, brand, category, …
    errors: dict[int, list[str]] = field(default_factory=dict)
    split: bool = False
    seq: int = 0
    store_id: int = 0
    occurred_at: datetime | None = None
    member_id: int | None = None
    card_no: str = ""
    refund_of_id: int | None = None  # a recorded sale
    refund_of_seq: int | None = None  # a sale earlier in the file
    total: int = 0
    completes_refund: bool = False  # of a recorded sale, which may have used coupons

    @property
    def label(self) -> str:
        return f"{self.store}/{self.pos_no}/{self.receipt_no}"

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.store, self.pos_no, self.receipt_no)


def receipts_import(
    *, path: str, create_members: bool = False, earn_points: bool = True, actor=None
) -> ReceiptsImported:
    """Record the receipts of a CSV file and earn their points, in one transaction: the good
    receipts are kept, the bad rows reported by line; receipts already recorded are skipped.
    Locks the points accounts of the members involved while posting (points_post_many)."""
    started = time.monotonic()
    info = FileInfo(path)
    result = ReceiptsImported(file=info)
    receipts = _read(info)
    problems = info.problems
    stores = dict(Store.objects.values_list("code", "pk"))
    checked = [r for r in receipts if _check_header(r, stores, problems)]

    with transaction.atomic():
        claims_lock()  # no claim approved meanwhile: the claims' receipts are matched below
        present = _present(checked)
        result.skipped = sum(r.key in present for r in checked)
        fresh = [r for r in checked if r.key not in present]
        members = _members(fresh)
        carded = []
        for receipt in fresh:
            found = members.get(receipt.card_no)
            if receipt.card_no and found is None and not create_members:
                _reject(receipt, problems, f"no member with card_no {receipt.card_no}")
            elif found is not None and found[1] != Member.Status.ACTIVE:
                _reject(receipt, problems, f"the member {receipt.card_no} is {found[1]}")
            else:
                receipt.member_id = found[0] if found else None
                carded.append(receipt)
        if create_members:
            result.members_created = _create_members(carded)
        # A purchase an approved claim recorded first: the file's copy replaces the claim's
        # stand-in through receipt_record and earns nothing (one purchase, one receipt).
        claimed = _claimed(carded)
        for receipt in claimed:
            receipt_record(data=_receipt_in(receipt), earn_points=earn_points)
        result.linked_to_claims = len(claimed)
        linked = {id(r) for r in claimed}
        carded = [r for r in carded if id(r) not in linked]
        accepted = _check_refunds(carded, {r.key for r in receipts}, problems)
        try:
            ids, result.too_old = _insert(accepted, earn_from=receipt_earn_window_start())
        except IntegrityError as exc:
            if "receipt_natural_key" not in str(exc):
                raise
            raise ReceiptImportConflict() from None
        result.added = len(accepted) + len(claimed)
        result.lines = sum(len(r.lines) for r in accepted + claimed)
        members_home_store_fill(member_ids={r.member_id for r in accepted + claimed if r.member_id})
        for receipt in accepted:
            if receipt.completes_refund:  # as through the API: the sale's coupons come back
                sale_refunded_in_full.send(sender=Receipt, sale=Receipt(pk=receipt.refund_of_id))
        if earn_points and ids:
            earned = receipts_earn(receipt_ids=ids)
            result.entries, result.points = earned.entries, earned.points
        audit_log(
            actor=actor,
            action="loyalty.receipts.imported",
            data={
                "file": str(path),
                "sha256": info.sha256,
                "added": result.added,
                "skipped": result.skipped,
                "bad_rows": len(problems),
                "points": result.points,
                "too_old_to_earn": result.too_old,
                "linked_to_claims": result.linked_to_claims,
            },
        )
    problems.sort(key=lambda problem: problem.line)
    result.problems = problems
    result.seconds = time.monotonic() - started
    return result


# --- Reading and checking ---------------------------------------------------------------------


def _read(info: FileInfo) -> list[_Receipt]:
    """The file's receipts in the order they first appear, their lines checked."""
    receipts: dict[tuple[str, str, str], _Receipt] = {}
    previous = None
    for row in csv_rows(info, RECEIPT_COLUMNS):
        cells = row.cells
        key = (cells["store"], cells["pos_no"], cells["receipt_no"])
        header = (cells["occurred_at"], cells["card_no"], cells["refund_of"])
        receipt = receipts.get(key)
        if receipt is None:
            receipt = receipts[key] = _Receipt(*key, header=header)
        elif previous != key:
            receipt.split = True
        previous = key
        receipt.rows.append(row.line)
        errors = [row.error] if row.error else []
        if header != receipt.header:
            errors.append("occurred_at, card_no and refund_of differ from the receipt's first row")
        try:
            receipt.lines.append(_line(cells))
        except RowError as exc:
            errors.append(str(exc))
        if errors:
            receipt.errors[row.line] = errors
    return list(receipts.values())


def _line(cells: dict[str, str]) -> tuple:
    """(sku, name, spec, brand, category, qty, amount_fen, non_merchandise) of a row."""
    sku, name, spec, brand = cells["sku"], cells["name"], cells["spec"], cells["brand"]
    category, qty, fen, flag = (
        cells["category"],
        cells["qty"],
        cells["amount_fen"],
        cells["non_merchandise"].lower(),
    )
    if (  # every check at once for the good rows; the slow path says what is wrong
        len(sku) <= 32
        and 0 < len(name) <= 128
        and max(len(spec), len(brand), len(category)) <= 64
        and not CONTROL.search(sku + name + spec + brand + category)
        and QTY.match(qty)
        and Decimal(qty) > 0
        and FEN.match(fen)
        and int(fen) <= MAX_FEN
        and flag in FLAGS
    ):
        return (sku, name, spec, brand, category, Decimal(qty), int(fen), FLAGS[flag])
    errors = []
    for check in (
        lambda: text(sku, "sku", 32),
        lambda: text(name, "name", 128, required=True),
        lambda: text(spec, "spec", 64),
        lambda: text(brand, "brand", 64),
        lambda: text(category, "category", 64),
        lambda: _qty(qty),
        lambda: _fen(fen),
        lambda: _flag(flag),
    ):
        try:
            check()
        except RowError as exc:
            errors.append(str(exc))
    raise RowError("; ".join(errors))


def _qty(value: str) -> Decimal:
    if not QTY.match(value):
        raise RowError(f"qty: a number with up to 3 decimals expected, got {value!r}")
    try:
        qty = Decimal(value)
    except InvalidOperation:
        raise RowError(f"qty: not a number {value!r}") from None
    if not 0 < qty <= 99999:
        raise RowError(f"qty: must be above 0 and at most 99999, got {value!r}")
    return qty


def _fen(value: str) -> int:
    if not FEN.match(value) or int(value) > MAX_FEN:
        raise RowError(f"amount_fen: a whole number of fen expected (29900 = ¥299), got {value!r}")
    return int(value)


def _flag(value: str) -> bool:
    if value.lower() not in FLAGS:
        raise RowError(f"non_merchandise: 1/0, true/false, yes/no or 是/否 expected, got {value!r}")
    return FLAGS[value.lower()]


def _check_header(receipt: _Receipt, stores: dict[str, int], problems: list[Problem]) -> bool:
    """The receipt's own cells (store, numbers, time, card) and its rows; False if rejected."""
    if receipt.errors:
        _reject(receipt, problems)
        return False
    if receipt.split:
        return _reject(receipt, problems, "its rows are in two places: is it in the file twice?")
    occurred_at, card, refund_of = receipt.header
    reasons = []
    if receipt.store not in stores:
        reasons.append(f"no store with code {receipt.store!r}")
    if not POS_NO.match(receipt.pos_no):
        reasons.append(f"pos_no {receipt.pos_no!r}: letters, digits, _ and - (at most 16)")
    if not RECEIPT_NO.match(receipt.receipt_no):
        reasons.append(f"receipt_no {receipt.receipt_no!r}: letters, digits and _-./")
    if refund_of and not RECEIPT_NO.match(refund_of):
        reasons.append(f"refund_of {refund_of!r}: letters, digits and _-./")
    if refund_of == receipt.receipt_no:
        reasons.append("a refund cannot refer to itself")
    if len(receipt.lines) > MAX_LINES:
        reasons.append(f"more than {MAX_LINES} lines")
    try:
        receipt.occurred_at = moment(occurred_at, "occurred_at", timezone.get_current_timezone())
        if receipt.occurred_at > timezone.now() + FUTURE_SLACK:
            reasons.append("occurred_at is in the future")
        elif receipt.occurred_at.year < 2000:
            reasons.append("occurred_at is before 2000")
    except RowError as exc:
        reasons.append(str(exc))
    try:
        receipt.card_no = parsed(card_no_clean, card, "card_no") if card else ""
    except RowError as exc:
        reasons.append(str(exc))
    if reasons:
        return _reject(receipt, problems, "; ".join(reasons))
    receipt.store_id = stores[receipt.store]
    receipt.total = sum(line[6] for line in receipt.lines)
    return True


def _reject(receipt: _Receipt, problems: list[Problem], reason: str = "") -> bool:
    """Report every row of a rejected receipt: its own fault, or the receipt's."""
    bad = ", ".join(str(line) for line in receipt.errors)
    why = reason or f"line {bad} of it is bad"
    for line in receipt.rows:
        own = "; ".join(receipt.errors.get(line, []))
        message = f"{own} (receipt {receipt.label} rejected)" if own else None
        problems.append(Problem(line, message or f"receipt {receipt.label} rejected: {why}"))
    return False


def _staged(cursor, table: str, columns: str, rows, *, texts: str = "") -> None:
    """A temporary table (dropped at commit) filled by COPY; an empty cell is NULL except in
    the `texts` columns, where it is ''."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    buffer.seek(0)
    options = f", FORCE_NOT_NULL ({texts})" if texts else ""
    cursor.execute(f"CREATE TEMP TABLE {table} ({columns}) ON COMMIT DROP")
    cursor.copy_expert(f"COPY {table} FROM STDIN WITH (FORMAT csv{options})", buffer)
    cursor.execute(f"ANALYZE {table}")


def _present(receipts: list[_Receipt]) -> set[tuple[str, str, str]]:
    """The natural keys of these receipts that are recorded already."""
    with connection.cursor() as cursor:
        _staged(
            cursor,
            "import_keys",
            "store_id bigint, pos_no text, receipt_no text",
            [(r.store_id, r.pos_no, r.receipt_no) for r in receipts],
        )
        cursor.execute(
            "SELECT s.code, r.pos_no, r.receipt_no FROM import_keys k"
            " JOIN loyalty_receipt r ON (r.store_id, r.pos_no, r.receipt_no)"
            "   = (k.store_id, k.pos_no, k.receipt_no)"
            " JOIN members_store s ON s.id = r.store_id"
            " WHERE r.payload_hash NOT LIKE %s",  # a claim's stand-in is replaced, not skipped
            [f"{CLAIM_HASH_PREFIX}%"],
        )
        present = set(cursor.fetchall())
        cursor.execute("DROP TABLE import_keys")
    return present


def _claimed(receipts: list[_Receipt]) -> list[_Receipt]:
    """The sales of the file whose purchase an approved claim recorded first (same store,
    receipt number in any case, on the claim's POS or with none), as receipt_record matches
    them. The claims' stand-in receipts are few: they are read at once."""
    stand_ins = defaultdict(set)
    for store_id, pos_no, number in (
        Receipt.objects.filter(payload_hash__startswith=CLAIM_HASH_PREFIX, kind="sale")
        .annotate(number=Upper("receipt_no"))
        .values_list("store_id", "pos_no", "number")
    ):
        stand_ins[store_id, number].add(pos_no)
    if not stand_ins:
        return []
    return [
        r
        for r in receipts
        if not r.header[2]
        and stand_ins.get((r.store_id, r.receipt_no.upper()), set()) & {r.pos_no, CLAIM_POS_NO}
    ]


def _receipt_in(receipt: _Receipt) -> ReceiptIn:
    return ReceiptIn(
        store=Store.objects.get(pk=receipt.store_id),
        pos_no=receipt.pos_no,
        receipt_no=receipt.receipt_no,
        occurred_at=receipt.occurred_at,
        member=Member.objects.get(pk=receipt.member_id) if receipt.member_id else None,
        lines=[
            LineIn(
                sku=sku,
                name=name,
                spec=spec,
                brand=brand,
                category=category,
                qty=qty,
                amount_fen=fen,
                non_merchandise=flag,
            )
            for sku, name, spec, brand, category, qty, fen, flag in receipt.lines
        ],
        total_fen=receipt.total,
    )


def _members(receipts: list[_Receipt]) -> dict[str, tuple[int, str]]:
    cards = sorted({r.card_no for r in receipts if r.card_no})
    return {
        card: (pk, status)
        for card, pk, status in Member.objects.filter(card_no__in=cards).values_list(
            "card_no", "pk", "status"
        )
    }


def _check_refunds(
    receipts: list[_Receipt], file_keys: set, problems: list[Problem]
) -> list[_Receipt]:
    """The receipts left once refunds are checked against their sales, in file order: a
    refund's sale is recorded or earlier in the file, and refunds never exceed it."""
    originals = _recorded_originals(receipts)
    in_file: dict[tuple[str, str, str], _Receipt] = {}
    refunded: dict[object, int] = {}  # sale (id, or ("seq", n)) → fen refunded so far
    accepted = []
    for receipt in receipts:
        refund_of = receipt.header[2]
        if not refund_of:
            receipt.seq = len(accepted) + 1
            accepted.append(receipt)
            in_file[receipt.key] = receipt
            continue
        sale_key = (receipt.store, receipt.pos_no, refund_of)
        earlier = in_file.get(sale_key)
        recorded = originals.get(sale_key)
        if earlier is not None:
            sale, sale_member, sale_total = ("seq", earlier.seq), earlier.member_id, earlier.total
            refunded.setdefault(sale, 0)
        elif recorded is not None:
            pk, kind, sale_member, sale_total, refunded_before = recorded
            if kind != Receipt.Kind.SALE:
                _reject(receipt, problems, f"{refund_of} is a refund, not a sale")
                continue
            sale = pk
            refunded.setdefault(sale, refunded_before)
        else:
            hint = " (the file's receipt is rejected or later)" if sale_key in file_keys else ""
            _reject(receipt, problems, f"no sale {refund_of} on this POS recorded or earlier{hint}")
            continue
        if receipt.card_no and (receipt.member_id is None or receipt.member_id != sale_member):
            _reject(receipt, problems, f"the sale {refund_of} was not made by {receipt.card_no}")
            continue
        left = sale_total - refunded[sale]
        if receipt.total > left:
            _reject(receipt, problems, f"only {left} fen of the sale {refund_of} is left to refund")
            continue
        refunded[sale] += receipt.total
        receipt.member_id = sale_member
        if isinstance(sale, tuple):
            receipt.refund_of_seq = sale[1]
        else:
            receipt.refund_of_id = sale
            receipt.completes_refund = refunded[sale] == sale_total
        receipt.seq = len(accepted) + 1
        accepted.append(receipt)
    return accepted


def _recorded_originals(receipts: list[_Receipt]) -> dict[tuple, tuple]:
    """Recorded receipts that refunds of the file name: (id, kind, member, total, refunded)."""
    wanted = [(r.store_id, r.pos_no, r.header[2]) for r in receipts if r.header[2]]
    if not wanted:
        return {}
    with connection.cursor() as cursor:
        _staged(cursor, "import_sales", "store_id bigint, pos_no text, receipt_no text", wanted)
        cursor.execute(
            "SELECT s.code, r.pos_no, r.receipt_no, r.id, r.kind, r.member_id, r.total_fen,"
            "       (SELECT COALESCE(SUM(x.total_fen), 0)::bigint FROM loyalty_receipt x"
            "        WHERE x.refund_of_id = r.id)"
            " FROM (SELECT DISTINCT * FROM import_sales) k"
            " JOIN loyalty_receipt r ON (r.store_id, r.pos_no, r.receipt_no)"
            "   = (k.store_id, k.pos_no, k.receipt_no)"
            " JOIN members_store s ON s.id = r.store_id"
        )
        found = {tuple(row[:3]): tuple(row[3:]) for row in cursor.fetchall()}
        cursor.execute("DROP TABLE import_sales")
    return found


def _create_members(receipts: list[_Receipt]) -> int:
    """Members for the unknown card numbers of these sales, registered at the first."""
    first: dict[str, _Receipt] = {}
    for receipt in receipts:
        if receipt.card_no and receipt.member_id is None and receipt.header[2] == "":
            known = first.get(receipt.card_no)
            if known is None or receipt.occurred_at < known.occurred_at:
                first[receipt.card_no] = receipt
    if not first:
        return 0
    created = Member.objects.bulk_create(
        [
            Member(card_no=card, registered_at=receipt.occurred_at, channel="import")
            for card, receipt in first.items()
        ],
        batch_size=2000,
    )
    ids = dict(Member.objects.filter(card_no__in=list(first)).values_list("card_no", "pk"))
    for receipt in receipts:
        if receipt.card_no in ids and receipt.member_id is None:
            receipt.member_id = ids[receipt.card_no]
    return len(created)


# --- Writing -------------------------------------------------------------------------------------

_LINKED = """
    CREATE TEMP TABLE import_linked ON COMMIT DROP AS
    SELECT l.seq, l.line_no, l.sku, l.name,
           COALESCE(NULLIF(l.spec, ''), sku.spec, '') AS spec,
           COALESCE(NULLIF(l.brand, ''), brand.name, '') AS brand_name,
           COALESCE(NULLIF(l.category, ''), category.name, '') AS category_name,
           brand.id AS brand_id, category.id AS category_id, category.division,
           l.qty, l.amount_fen, l.non_merchandise OR COALESCE(sku.non_merchandise, false)
               AS non_merchandise
    FROM import_lines l
    LEFT JOIN loyalty_sku sku ON l.sku <> '' AND sku.code = l.sku
    LEFT JOIN (SELECT DISTINCT ON (name) name, id FROM loyalty_category ORDER BY name, id) named
           ON l.category <> '' AND named.name = l.category
    LEFT JOIN mall_brand named_brand ON l.brand <> '' AND named_brand.name = l.brand
    LEFT JOIN loyalty_category category ON category.id = COALESCE(named.id, sku.category_id)
    LEFT JOIN mall_brand brand ON brand.id = COALESCE(named_brand.id, sku.brand_id)"""

# The division most of the money went to (the first line's on a tie), department store when
# no line has a category; a refund keeps its sale's.
_DIVISION = """
    CREATE TEMP TABLE import_division ON COMMIT DROP AS
    SELECT DISTINCT ON (seq) seq, division FROM (
        SELECT seq, division, SUM(amount_fen) AS fen, MIN(line_no) AS first_line
        FROM import_linked WHERE division IS NOT NULL GROUP BY seq, division) x
    ORDER BY seq, fen DESC, first_line"""

_INSERT_RECEIPTS = """
    INSERT INTO loyalty_receipt (id, store_id, pos_no, receipt_no, occurred_at, member_id, kind,
        refund_of_id, division, total_fen, created_at, terminal_id, payload_hash, response)
    SELECT r.id, r.store_id, r.pos_no, r.receipt_no, r.occurred_at, r.member_id,
           CASE WHEN r.refund_of_id IS NULL AND r.refund_of_seq IS NULL THEN 'sale'
                ELSE 'refund' END,
           COALESCE(r.refund_of_id, sale.id),
           COALESCE(recorded.division, sale_division.division, own.division, %s),
           r.total_fen, %s, NULL, '', NULL
    FROM import_receipts r
    LEFT JOIN import_receipts sale ON sale.seq = r.refund_of_seq
    LEFT JOIN loyalty_receipt recorded ON recorded.id = r.refund_of_id
    LEFT JOIN import_division sale_division ON sale_division.seq = r.refund_of_seq
    LEFT JOIN import_division own ON own.seq = r.seq
    ORDER BY r.seq"""

_INSERT_LINES = """
    INSERT INTO loyalty_receiptline (receipt_id, line_no, sku_code, name, spec, brand_name,
        category_name, brand_id, category_id, qty, amount_fen, non_merchandise)
    SELECT r.id, l.line_no, l.sku, l.name, l.spec, l.brand_name, l.category_name, l.brand_id,
           l.category_id, l.qty, l.amount_fen, l.non_merchandise
    FROM import_linked l JOIN import_receipts r USING (seq)
    ORDER BY r.id, l.line_no"""


def _insert(receipts: list[_Receipt], *, earn_from: datetime) -> tuple[list[int], int]:
    """Write the receipts and their lines; the new receipt ids (with a member) to earn, and
    how many sales with a member are older than `earn_from` and earn nothing."""
    if not receipts:
        return [], 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('work_mem', '256MB', true)")
        cursor.execute("SELECT pg_get_serial_sequence('loyalty_receipt', 'id')")
        sequence = cursor.fetchone()[0]
        _staged(
            cursor,
            "import_receipts",
            "seq integer PRIMARY KEY, store_id bigint, pos_no varchar(16),"
            " receipt_no varchar(64), occurred_at timestamptz, member_id bigint,"
            " refund_of_id bigint, refund_of_seq integer, total_fen bigint",
            (
                (
                    r.seq,
                    r.store_id,
                    r.pos_no,
                    r.receipt_no,
                    r.occurred_at.isoformat(),
                    r.member_id,
                    r.refund_of_id,
                    r.refund_of_seq,
                    r.total,
                )
                for r in receipts
            ),
        )
        cursor.execute("ALTER TABLE import_receipts ADD COLUMN id bigint")
        cursor.execute("UPDATE import_receipts SET id = nextval(%s::regclass)", [sequence])
        _staged(
            cursor,
            "import_lines",
            "seq integer, line_no integer, sku varchar(32), name varchar(128),"
            " spec varchar(64), brand varchar(64), category varchar(64), qty numeric(12, 3),"
            " amount_fen bigint, non_merchandise boolean",
            (
                (r.seq, number, *line)
                for r in receipts
                for number, line in enumerate(r.lines, start=1)
            ),
            texts="sku, name, spec, brand, category",
        )
        cursor.execute(_LINKED)
        cursor.execute(_DIVISION)
        cursor.execute(_INSERT_RECEIPTS, [Division.DEPARTMENT, timezone.now()])
        cursor.execute(_INSERT_LINES)
        # Sales before the earning window are history: recorded, never earning. Refunds
        # always take back what their sale earned (nothing, for a sale that earned nothing).
        cursor.execute(
            "SELECT id, refund_of_id IS NULL AND refund_of_seq IS NULL AND occurred_at < %s"
            " FROM import_receipts WHERE member_id IS NOT NULL ORDER BY id",
            [earn_from],
        )
        rows = cursor.fetchall()
        cursor.execute("DROP TABLE import_receipts, import_lines, import_linked, import_division")
    return [pk for pk, too_old in rows if not too_old], sum(too_old for _pk, too_old in rows)
