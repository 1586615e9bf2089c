from django.core.management.base import BaseCommand, CommandError

from analytics.predicted_value import CLV_EXPORT_HEADER, clv_export_rows, clv_run_current
from core.csv_export import csv_file_write


class Command(BaseCommand):
    help = "Write the current predicted value run to FILE.csv (UTF-8, sorted by card number)."

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE.csv")

    def handle(self, *args, file, **options):
        run = clv_run_current()
        if run is None:
            raise CommandError("no completed predicted value run: run clv_run first")
        count = csv_file_write(file, CLV_EXPORT_HEADER, clv_export_rows(run))
        self.stdout.write(f"{count} members written to {file}")
