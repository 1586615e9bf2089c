from datetime import date

from django.core.management.base import BaseCommand, CommandError

from analytics.clv import FitError
from analytics.predicted_value import clv_run
from core.exceptions import ServiceError


class Command(BaseCommand):
    help = (
        "Fit BG/NBD and Gamma-Gamma on every member's purchase days up to and including DATE "
        "(default yesterday, Asia/Shanghai) and store each member's predicted value."
    )

    def add_arguments(self, parser):
        parser.add_argument("--as-of", type=date.fromisoformat, metavar="DATE", default=None)

    def handle(self, *args, as_of, **options):
        try:
            run = clv_run(as_of=as_of)
        except (FitError, ServiceError) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"as_of={run.as_of.isoformat()} members={run.member_count} run={run.pk}")
        self.stdout.write(f"bgnbd r={run.r:.6g} alpha={run.alpha:.6g} a={run.a:.6g} b={run.b:.6g}")
        self.stdout.write(f"gammagamma p={run.p:.6g} q={run.q:.6g} v={run.v:.6g}")
