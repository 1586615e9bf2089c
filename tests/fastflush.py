"""A faster flush after each transactional test (tests only).

Django empties the database after a `transaction=True` test with one TRUNCATE of every table
(121 here), which costs Postgres about two seconds whatever the tables hold, and then rebuilds
the content types and permissions it has just removed. Most of those tables are empty after
a test. This flush DELETEs from the tables that hold rows (a TRUNCATE … CASCADE for the few
holding thousands, where DELETE would be slower), with triggers and foreign-key checks off
for the transaction (`session_replication_role = replica`: the ledger's append-only triggers
would refuse the DELETE), and keeps the content types and permissions, which post_migrate
would only write again. Sequences are not reset, as Django's teardown flush does not reset
them either. Without superuser rights (which `session_replication_role` needs) Django's own
flush runs. Autovacuum is kept off the test tables (autoanalyze_off).
"""

from django.db.backends.postgresql.operations import DatabaseOperations

# Rows that only post_migrate writes, the same after every flush.
KEPT = frozenset({"django_content_type", "auth_permission", "django_migrations"})
# From this many rows on, TRUNCATE (no dead rows left behind, cheaper than DELETE).
TRUNCATE_FROM = 1000

_django_sql_flush = DatabaseOperations.sql_flush


def _superuser(connection) -> bool:
    if not hasattr(connection, "_fastflush_superuser"):
        with connection.cursor() as cursor:
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            connection._fastflush_superuser = bool(cursor.fetchone()[0])
    return connection._fastflush_superuser


def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
    if reset_sequences or not tables or not _superuser(self.connection):
        return _django_sql_flush(
            self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
        )
    tables = [table for table in tables if table not in KEPT]
    quote = self.quote_name
    counts = " UNION ALL ".join(
        f"SELECT %s, (SELECT count(*) FROM (SELECT 1 FROM {quote(table)}"  # noqa: S608
        f" LIMIT {TRUNCATE_FROM}) AS head) HAVING EXISTS (SELECT 1 FROM {quote(table)})"
        for table in tables
    )
    with self.connection.cursor() as cursor:
        cursor.execute(counts, tables)
        filled = cursor.fetchall()
    big = [table for table, rows in filled if rows >= TRUNCATE_FROM]
    statements = ["SET LOCAL session_replication_role = replica"]
    # table names from Django's own list, quoted
    statements += [
        f"DELETE FROM {quote(table)}"  # noqa: S608
        for table, rows in filled
        if rows < TRUNCATE_FROM
    ]
    if big:
        statements.append(f"TRUNCATE {', '.join(quote(table) for table in big)} CASCADE")
    return statements


def install() -> None:
    DatabaseOperations.sql_flush = sql_flush


def autoanalyze_off(connection) -> None:
    """Keep autovacuum off the test database's tables. Analysed while a test had emptied it, a
    table keeps pages but reltuples 0, the planner then takes any number of rows in it for
    one, and the next test's INSERT … SELECT over thousands of receipts ran for minutes on a
    nested loop. Never analysed, a table is estimated from its size (as after Django's
    TRUNCATE). The flush's DELETEs leave few dead rows: tables with more are truncated."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.oid::regclass::text FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = current_schema() AND c.relkind = 'r'"
        )
        for (table,) in cursor.fetchall():
            cursor.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")
