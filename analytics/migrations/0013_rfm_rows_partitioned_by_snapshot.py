"""analytics_rfmrow becomes a table list-partitioned by snapshot: a run COPYs its rows into a
table of their own without indexes, builds the indexes sorted, and attaches it (analytics/
services.py, _copy_rows). COPYing 733,000 rows into one table holding every snapshot, through
its seven indexes, took 8–9 s of a 14 s nightly run at 1M members (bench/rfm_bench.py), and
would grow with the history: the member index covers every snapshot.

The parent keeps the model's indexes and constraints under Django's names (the member list's
keyset sorts, the class and stage filters, the member's history). Postgres wants the partition
key in a partitioned table's primary key: it is (id, snapshot_id) in the database, `id` to
Django (ids come from one sequence, so `id` alone stays unique). Rows written by the ORM (tests,
demo data) for a snapshot without a partition of its own go to the DEFAULT partition.
Existing rows move into one partition per snapshot.
"""

from django.db import migrations

TABLE = "analytics_rfmrow"
COLUMNS = (
    "id, recency_days, frequency, monetary_fen, r_score, f_score, m_score, r_short, f_high,"
    " m_high, rfm_class, lifecycle_stage, member_id, snapshot_id"
)
# Django's names for the model's indexes and constraints (migrations 0001, 0008)
INDEXES = [
    ("analytics_r_snapsho_352749_idx", "(snapshot_id, rfm_class)"),
    ("analytics_rfmrow_member_id_0a9fcf0a", "(member_id)"),
    ("rfm_row_recency_keyset", "(snapshot_id, recency_days, member_id)"),
    ("rfm_row_spend_keyset", "(snapshot_id, monetary_fen, member_id)"),
    ("rfm_row_stage", "(snapshot_id, lifecycle_stage)"),
]


def _names(cursor, table: str) -> tuple[list[str], list[str]]:
    cursor.execute(
        "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype IN ('p', 'u')",
        [table],
    )
    constraints = [row[0] for row in cursor.fetchall()]
    cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", [table])
    indexes = [row[0] for row in cursor.fetchall() if row[0] not in constraints]
    return constraints, indexes


def _set_aside(cursor, table: str) -> str:
    """Rename `table`, its indexes, constraints and id sequence out of the way."""
    old = f"{table}_old"
    constraints, indexes = _names(cursor, table)
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
    sequence = cursor.fetchone()[0]
    cursor.execute(f"ALTER TABLE {table} RENAME TO {old}")
    for name in constraints:
        cursor.execute(f'ALTER TABLE {old} RENAME CONSTRAINT "{name}" TO "{name[:50]}_old"')
    for name in indexes:
        cursor.execute(f'ALTER INDEX "{name}" RENAME TO "{name[:50]}_old"')
    if sequence:
        cursor.execute(f"ALTER SEQUENCE {sequence} RENAME TO {table}_old_id_seq")
    return old


def _new_table(cursor, old: str, *, partitioned: bool) -> None:
    cursor.execute(
        f"CREATE TABLE {TABLE} (LIKE {old} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
        + (" PARTITION BY LIST (snapshot_id)" if partitioned else "")
    )
    cursor.execute(f"CREATE SEQUENCE {TABLE}_id_seq OWNED BY {TABLE}.id")
    cursor.execute(f"SELECT setval('{TABLE}_id_seq', COALESCE(MAX(id), 0) + 1, false) FROM {old}")
    cursor.execute(f"ALTER TABLE {TABLE} ALTER COLUMN id SET DEFAULT nextval('{TABLE}_id_seq')")
    key = "(id, snapshot_id)" if partitioned else "(id)"
    cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY {key}")
    cursor.execute(
        f"ALTER TABLE {TABLE} ADD CONSTRAINT rfm_row_one_per_member UNIQUE (snapshot_id, member_id)"
    )
    for name, columns in INDEXES:
        cursor.execute(f'CREATE INDEX "{name}" ON {TABLE} {columns}')


def partition(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        old = _set_aside(cursor, TABLE)
        _new_table(cursor, old, partitioned=True)
        cursor.execute(f"CREATE TABLE {TABLE}_default PARTITION OF {TABLE} DEFAULT")
        cursor.execute(f"SELECT DISTINCT snapshot_id FROM {old}")
        for (snapshot_id,) in cursor.fetchall():
            cursor.execute(
                f"CREATE TABLE {TABLE}_s{int(snapshot_id)} PARTITION OF {TABLE}"
                f" FOR VALUES IN ({int(snapshot_id)})"
            )
        cursor.execute(f"INSERT INTO {TABLE} ({COLUMNS}) SELECT {COLUMNS} FROM {old}")  # noqa: S608
        cursor.execute(f"DROP TABLE {old}")


def unpartition(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {TABLE} RENAME TO {TABLE}_old")
        cursor.execute(f"ALTER SEQUENCE {TABLE}_id_seq RENAME TO {TABLE}_old_id_seq")
        constraints, indexes = _names(cursor, f"{TABLE}_old")
        for name in constraints:
            cursor.execute(
                f'ALTER TABLE {TABLE}_old RENAME CONSTRAINT "{name}" TO "{name[:50]}_old"'
            )
        for name in indexes:
            cursor.execute(f'ALTER INDEX "{name}" RENAME TO "{name[:50]}_old"')
        _new_table(cursor, f"{TABLE}_old", partitioned=False)
        cursor.execute(
            f"INSERT INTO {TABLE} ({COLUMNS}) SELECT {COLUMNS} FROM {TABLE}_old"  # noqa: S608
        )
        cursor.execute(f"DROP TABLE {TABLE}_old CASCADE")


class Migration(migrations.Migration):
    dependencies = [("analytics", "0012_rfm_running_state")]

    operations = [migrations.RunPython(partition, unpartition)]
