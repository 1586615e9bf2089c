"""A fresh mall starts with working defaults (staff edit them in the admin), and the points
ledger is append-only in the database itself: UPDATE and DELETE of an entry raise."""

from django.db import migrations

from loyalty.defaults import loyalty_defaults_install

TRIGGER = """
CREATE FUNCTION loyalty_pointsentry_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'points entries are append-only: % refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER loyalty_pointsentry_append_only
    BEFORE UPDATE OR DELETE ON loyalty_pointsentry
    FOR EACH ROW EXECUTE FUNCTION loyalty_pointsentry_refuse_change();
"""

DROP_TRIGGER = """
DROP TRIGGER IF EXISTS loyalty_pointsentry_append_only ON loyalty_pointsentry;
DROP FUNCTION IF EXISTS loyalty_pointsentry_refuse_change();
"""


def defaults(apps, schema_editor):
    loyalty_defaults_install(apps)


class Migration(migrations.Migration):
    dependencies = [("loyalty", "0003_pos_ledger_tiers")]

    operations = [
        migrations.RunPython(defaults, migrations.RunPython.noop),
        migrations.RunSQL(TRIGGER, DROP_TRIGGER),
    ]
