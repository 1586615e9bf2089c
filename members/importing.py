"""`manage.py import_members FILE.csv`: members from another system, upserted by card number.

Columns card_no,phone,name,gender,birthday,registered_at,store (DESIGN.md, "Operator
commands"). A filled cell sets the field and an empty one leaves it as it is, so a member
who completed their profile in WeChat keeps it when an older file comes in again. A row is
bad, and skipped, when a cell is malformed, when its card number or phone is on another row
of the file too (which one is right is not ours to guess), when its phone belongs to another
member, or when the card is a closed (anonymised) membership, which must stay erased.
"""

import csv
import io
import re
import time
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from core.audit import audit_log
from core.csv_import import (
    FileInfo,
    Problem,
    RowError,
    csv_rows,
    day,
    moment,
    parsed,
    text,
)
from members.cards import CARD_NO_MAX_LENGTH, card_no_clean
from members.models import Member
from stores.models import Store

MEMBER_COLUMNS = ("card_no", "phone", "name", "gender", "birthday", "registered_at", "store")
GENDERS = {"m": "M", "f": "F", "u": "U", "男": "M", "女": "F"}
PHONE = re.compile(r"^1[3-9][0-9]{9}$")
CHANNEL = "import"


@dataclass
class MembersImported:
    file: FileInfo
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    seconds: float = 0.0
    problems: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class _Member:
    line: int
    card_no: str
    phone: str | None
    name: str | None
    gender: str | None
    birthday: object
    registered_at: object
    store_id: int | None
    region_id: int | None


_STAGE = f"""
    CREATE TEMP TABLE member_in (
        line integer PRIMARY KEY, card_no varchar({CARD_NO_MAX_LENGTH}) NOT NULL,
        phone varchar(11), name varchar(64), gender varchar(1), birthday date,
        registered_at timestamptz, store_id bigint, region_id bigint
    ) ON COMMIT DROP"""

_UPDATE = """
    UPDATE members_member m SET
        phone = COALESCE(i.phone, m.phone), name = COALESCE(i.name, m.name),
        gender = COALESCE(i.gender, m.gender), birthday = COALESCE(i.birthday, m.birthday),
        registered_at = COALESCE(i.registered_at, m.registered_at),
        home_store_id = COALESCE(i.store_id, m.home_store_id),
        region_id = COALESCE(i.region_id, m.region_id)
    FROM member_in i
    WHERE m.card_no = i.card_no AND (m.phone, m.name, m.gender, m.birthday, m.registered_at,
                                     m.home_store_id, m.region_id)
        IS DISTINCT FROM (COALESCE(i.phone, m.phone), COALESCE(i.name, m.name),
                          COALESCE(i.gender, m.gender), COALESCE(i.birthday, m.birthday),
                          COALESCE(i.registered_at, m.registered_at),
                          COALESCE(i.store_id, m.home_store_id),
                          COALESCE(i.region_id, m.region_id))"""

# New members: the file's values, and the model's defaults for every other column.
_NEW = {
    "card_no": "i.card_no",
    "phone": "i.phone",
    "name": "COALESCE(i.name, '')",
    "gender": "COALESCE(i.gender, 'U')",
    "birthday": "i.birthday",
    "registered_at": "COALESCE(i.registered_at, now())",
    "home_store_id": "i.store_id",
    "region_id": "i.region_id",
    "channel": f"'{CHANNEL}'",
    "status": f"'{Member.Status.ACTIVE}'",
}


def members_import(*, path: str, actor=None) -> MembersImported:
    """Create or update the members of a CSV file, keeping the good rows and reporting the
    bad ones by line. One transaction; it holds the member table in SHARE ROW EXCLUSIVE mode
    while it checks phones and writes, so a sign-up meanwhile waits rather than races."""
    started = time.monotonic()
    info = FileInfo(path)
    result = MembersImported(file=info)
    stores = {s.code: (s.pk, s.region_id) for s in Store.objects.all()}
    context = {"stores": stores, "today": timezone.localdate(), "now": timezone.now()}
    rows = []
    for row in csv_rows(info, MEMBER_COLUMNS):
        if row.error:
            info.problems.append(Problem(row.line, row.error))
            continue
        try:
            rows.append(_member(row.line, row.cells, **context))
        except RowError as exc:
            info.problems.append(Problem(row.line, str(exc)))
    rows = _without_repeats(rows, info.problems)

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_STAGE)
        cursor.copy_expert("COPY member_in FROM STDIN WITH (FORMAT csv)", _csv(rows))
        cursor.execute("ANALYZE member_in")
        cursor.execute("LOCK TABLE members_member IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute(
            "SELECT i.line, m.card_no FROM member_in i JOIN members_member m"
            " ON m.phone = i.phone AND m.card_no <> i.card_no"
        )
        bad = {
            line: f"phone: belongs to another member (card {other})"
            for line, other in cursor.fetchall()
        }
        cursor.execute(
            "SELECT i.line FROM member_in i JOIN members_member m ON m.card_no = i.card_no"
            " WHERE m.status = %s",
            [Member.Status.CLOSED],
        )
        bad.update(
            (line, "card_no: this membership was closed and anonymised")
            for (line,) in cursor.fetchall()
        )
        info.problems += [Problem(line, message) for line, message in bad.items()]
        cursor.execute("DELETE FROM member_in WHERE line = ANY(%s)", [list(bad)])
        cursor.execute(_UPDATE)
        result.updated = cursor.rowcount
        columns, values, params = _insert_parts()
        cursor.execute(
            f"INSERT INTO members_member ({columns}) SELECT {values} FROM member_in i"  # noqa: S608
            " WHERE NOT EXISTS (SELECT 1 FROM members_member m WHERE m.card_no = i.card_no)",
            params,
        )
        result.created = cursor.rowcount
        result.unchanged = len(rows) - len(bad) - result.created - result.updated
        cursor.execute("DROP TABLE member_in")
        audit_log(
            actor=actor,
            action="members.imported",
            data={
                "file": str(path),
                "sha256": info.sha256,
                "created": result.created,
                "updated": result.updated,
                "bad_rows": len(info.problems),
            },
        )
    info.problems.sort(key=lambda problem: problem.line)
    result.problems = info.problems
    result.seconds = time.monotonic() - started
    return result


def _member(line: int, cells: dict[str, str], *, stores, today, now) -> _Member:
    """The row's values; RowError naming every bad cell."""
    tz = timezone.get_current_timezone()
    errors = []

    def check(parse, *args):
        try:
            return parse(*args)
        except RowError as exc:
            errors.append(str(exc))
            return None

    card = check(parsed, card_no_clean, cells["card_no"], "card_no")
    phone = check(_phone, cells["phone"])
    name = check(text, cells["name"], "name", 64)
    gender = check(_gender, cells["gender"])
    birthday = check(_birthday, cells["birthday"], today)
    registered_at = check(_registered_at, cells["registered_at"], tz, now)
    store = check(_store, cells["store"], stores)
    if errors:
        raise RowError("; ".join(errors))
    return _Member(line, card, phone, name or None, gender, birthday, registered_at, *store)


def _phone(value: str) -> str | None:
    phone = re.sub(r"[\s-]", "", value).removeprefix("+86")
    if phone and not PHONE.match(phone):
        raise RowError(f"phone: 11-digit mainland mobile number expected, got {value!r}")
    return phone or None


def _gender(value: str) -> str | None:
    if value and value.lower() not in GENDERS:
        raise RowError(f"gender: M, F, U, 男 or 女 expected, got {value!r}")
    return GENDERS[value.lower()] if value else None


def _birthday(value: str, today):
    birthday = day(value, "birthday") if value else None
    if birthday is not None and not (1900 <= birthday.year and birthday <= today):
        raise RowError(f"birthday: {birthday} is not a plausible birthday")
    return birthday


def _registered_at(value: str, tz, now):
    registered_at = moment(value, "registered_at", tz) if value else None
    if registered_at is not None and registered_at > now:
        raise RowError("registered_at: in the future")
    return registered_at


def _store(value: str, stores) -> tuple[int | None, int | None]:
    if value and value not in stores:
        raise RowError(f"store: no store with code {value!r}")
    return stores[value] if value else (None, None)


def _without_repeats(rows: list[_Member], problems: list[Problem]) -> list[_Member]:
    """Rows whose card number, or phone, no other row of the file claims too."""
    for attribute in ("card_no", "phone"):
        lines: dict[str, list[int]] = {}
        for row in rows:
            value = getattr(row, attribute)
            if value is not None:
                lines.setdefault(value, []).append(row.line)
        repeated = {value: found for value, found in lines.items() if len(found) > 1}
        kept = []
        for row in rows:
            found = repeated.get(getattr(row, attribute))
            if found is None:
                kept.append(row)
                continue
            others = ", ".join(str(line) for line in found if line != row.line)
            problems.append(Problem(row.line, f"{attribute}: also on line {others}"))
        rows = kept
    return rows


def _csv(rows: list[_Member]) -> io.StringIO:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for r in rows:
        writer.writerow(
            [
                r.line,
                r.card_no,
                r.phone,
                r.name,
                r.gender,
                r.birthday,
                r.registered_at.isoformat() if r.registered_at else None,
                r.store_id,
                r.region_id,
            ]
        )
    buffer.seek(0)
    return buffer


def _insert_parts() -> tuple[str, str, list]:
    columns, values, params = [], [], []
    for model_field in Member._meta.concrete_fields:
        if model_field.primary_key:
            continue
        columns.append(connection.ops.quote_name(model_field.column))
        if model_field.column in _NEW:
            values.append(_NEW[model_field.column])
        else:
            values.append("%s")
            params.append(model_field.get_db_prep_save(model_field.get_default(), connection))
    return ", ".join(columns), ", ".join(values), params
