from django.core.management.base import BaseCommand, CommandError

from analytics.selectors import EXPORT_HEADER, rfm_current_snapshot, rfm_export_rows
from core.csv_export import csv_file_write


class Command(BaseCommand):
    help = "Write the current RFM snapshot to FILE.csv (UTF-8, one member a line, by card_no)."

    def add_arguments(self, parser):
        parser.add_argument("file")

    def handle(self, *args, file, **options):
        snapshot = rfm_current_snapshot()
        if snapshot is None:
            raise CommandError("No RFM snapshot yet: run rfm_run first.")
        count = csv_file_write(file, EXPORT_HEADER, rfm_export_rows(snapshot))
        self.stdout.write(
            f"rfm export: {count} members of snapshot {snapshot.pk} ({snapshot.as_of})"
        )
