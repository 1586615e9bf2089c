from datetime import date

from django.core.management.base import BaseCommand, CommandError

from analytics.services import rfm_snapshot_build
from core.exceptions import ServiceError


class Command(BaseCommand):
    help = (
        "Build the RFM snapshot as of DATE (default yesterday, Shanghai) over the window "
        "(as-of minus N days, as-of] and make it current."
    )

    def add_arguments(self, parser):
        parser.add_argument("--as-of", type=date.fromisoformat, default=None, metavar="DATE")
        parser.add_argument("--window-days", type=int, default=None, metavar="N")
        parser.add_argument(
            "--full",
            action="store_true",
            help="Scan the window's receipts (and write the running state anew) even where the "
            "running state would serve.",
        )

    def handle(self, *args, as_of, window_days, full, **options):
        try:
            snapshot = rfm_snapshot_build(as_of=as_of, window_days=window_days, full=full)
        except ServiceError as error:
            raise CommandError(str(error)) from error
        seconds = (snapshot.finished_at - snapshot.started_at).total_seconds()
        self.stdout.write(
            f"rfm snapshot {snapshot.pk} as_of={snapshot.as_of} window_days={snapshot.window_days}"
            f" members={snapshot.row_count} seconds={seconds:.1f}"
        )
