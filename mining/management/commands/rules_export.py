from django.core.management.base import BaseCommand, CommandError

from core.csv_export import csv_file_write
from mining.models import MiningRun
from mining.services import EXPORT_HEADER, rules_export_rows


class Command(BaseCommand):
    help = (
        "Write a mining run's rules to FILE.csv: antecedents,consequents,support,confidence,"
        "lift,count (items joined by |, sorted)."
    )

    def add_arguments(self, parser):
        parser.add_argument("run_id", type=int)
        parser.add_argument("file")

    def handle(self, *args, run_id, file, **options):
        run = MiningRun.objects.filter(pk=run_id).first()
        if run is None:
            raise CommandError(f"No mining run {run_id}.")
        if run.status != MiningRun.Status.DONE:
            raise CommandError(f"Mining run {run_id} is {run.status}, not done.")
        count = csv_file_write(file, EXPORT_HEADER, rules_export_rows(run))
        self.stdout.write(f"rules export: {count} rules of run {run.pk}")
