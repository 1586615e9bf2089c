import os
from datetime import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from config.demo.loader import (
    demo_analyses,
    demo_is_seeded,
    demo_reset,
    demo_seed,
    demo_till_credentials,
)


def _as_of(value: str) -> datetime:
    moment = parse_datetime(value)
    if moment is None:
        day = parse_date(value)
        if day is None:
            raise CommandError(f"--as-of: not a date or time: {value!r}")
        moment = datetime(
            day.year, day.month, day.day, 21, 0, tzinfo=timezone.get_current_timezone()
        )
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


class Command(BaseCommand):
    help = "Build the demo mall: stores S01 and S02, floors, brands, members and their receipts."

    def add_arguments(self, parser):
        parser.add_argument("--members", type=int, default=2000)
        parser.add_argument("--months", type=int, default=12)
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument(
            "--as-of",
            help="Last moment of the demo history (date or ISO time, Asia/Shanghai); default now. "
            "The same seed and as-of give the same mall.",
        )
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--if-empty", action="store_true", help="Do nothing if data exists.")
        mode.add_argument("--reset", action="store_true", help="Delete the existing data first.")

    def handle(self, *args, members, months, seed, as_of, if_empty, reset, **options):
        # SETTINGS_MODULE is None while settings are overridden (as under a test's live server).
        module = settings.SETTINGS_MODULE or os.environ.get("DJANGO_SETTINGS_MODULE", "")
        if not settings.DEBUG and module.endswith("production"):
            raise CommandError("seed_demo does not run with production settings.")
        if members < 0 or months < 1:
            raise CommandError("--members must be 0 or more and --months at least 1.")
        if demo_is_seeded():
            if if_empty:
                self.stdout.write("Data exists; demo not seeded.")
                self._till()
                return
            if not reset:
                raise CommandError("The database already holds stores or members; use --reset.")
        if reset:
            # Also on an empty database: the reset restarts the id sequences, so the same seed
            # gives the same ids (and the ledger keys that name them) however the tables were left.
            demo_reset()
        moment = _as_of(as_of) if as_of else timezone.now()
        result = demo_seed(members=members, months=months, seed=seed, as_of=moment)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo mall: {result.members} members, {result.receipts} receipts, "
                f"{result.lines} lines, {result.points_entries} points entries, "
                f"{result.coupons} coupons, {result.tickets} feedback tickets in "
                f"{result.seconds:.1f} s (seed {seed})."
            )
        )
        if members:
            analyses = demo_analyses(as_of=moment)
            self.stdout.write(
                f"Last night's jobs: RFM {analyses['rfm_members']} members, predicted value "
                f"{analyses['clv_members']} members, basket mining {analyses['rules']} rules."
            )
        self._till()
        self.stdout.write(f"Staff logins (password for all: {result.staff[0][1]}):")
        for username, _password, role in result.staff:
            self.stdout.write(f"  {username:<12} {role}")

    def _till(self):
        # Printed on every `make run`, not only the first: the examples in docs/ need it.
        credentials = demo_till_credentials()
        if credentials:
            terminal, secret = credentials
            self.stdout.write(
                f"Demo till for the POS API: POS_TERMINAL={terminal} POS_SECRET={secret}"
            )
