from django.db import migrations

# Indexes on members' and loyalty's tables that only the member list (analytics) needs: kept
# here, out of those apps' model state, so the layers below stay unaware of the list.
LIST_INDEXES = [
    # keyset pages by registration time: (registered_at, id) < (%s, %s) as an index range
    ("member_registered_keyset", "members_member (registered_at, id)"),
    # the search box's name prefix (LIKE '张%') whatever the database's collation
    ("member_name_prefix", "members_member (name varchar_pattern_ops)"),
    # keyset pages by points balance
    ("points_balance_keyset", "loyalty_pointsaccount (balance, member_id)"),
]
CREATE = [f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {target}" for name, target in LIST_INDEXES]
DROP = [f"DROP INDEX CONCURRENTLY IF EXISTS {name}" for name, _target in LIST_INDEXES]


class Migration(migrations.Migration):
    # CONCURRENTLY: a million members' table keeps taking writes while its index is built
    atomic = False

    dependencies = [
        ("analytics", "0007_member_list"),
        ("members", "0013_master_data_to_stores"),
        ("loyalty", "0012_pos_terminal_to_pos"),
    ]

    operations = [migrations.RunSQL(CREATE, DROP)]
