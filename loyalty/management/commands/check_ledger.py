from django.core.management.base import BaseCommand, CommandError

from loyalty.ledger import LEDGER_CHECKS, ledger_check


class Command(BaseCommand):
    help = "Verify every invariant of the points ledger; exits non-zero on a breach."

    def handle(self, *args, **options):
        breaches = ledger_check()
        for breach in breaches:
            self.stderr.write(str(breach))
        if breaches:
            raise CommandError(f"{len(breaches)} ledger breach(es) found")
        self.stdout.write(f"ledger ok: {len(LEDGER_CHECKS)} checks passed")
