from django.core.management.base import BaseCommand, CommandError

from core.csv_import import ImportFileError
from loyalty.receipt_import import RECEIPT_COLUMNS, ReceiptImportConflict, receipts_import


class Command(BaseCommand):
    help = (
        "Record till receipts from a CSV file, one row per receipt line, with the columns "
        f"{','.join(RECEIPT_COLUMNS)} (UTF-8, with or without BOM, or GBK). The rows of a "
        "receipt share store, pos_no and receipt_no and follow one another; times without an "
        "offset are Asia/Shanghai. Receipts already recorded are skipped, so a file can be "
        "imported again safely. A receipt with a bad row is rejected whole and its rows are "
        "listed on stderr; the good receipts are kept, and the exit status is 1 if any row "
        "was bad. Points are earned as through the POS API; sales older than the earning window "
        "(RECEIPT_EARN_WINDOW_DAYS) are recorded without points and counted."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the CSV file")
        parser.add_argument(
            "--create-members",
            action="store_true",
            help="create a member for each unknown card number instead of rejecting its receipts",
        )
        parser.add_argument(
            "--no-points", action="store_true", help="record the receipts without earning points"
        )

    def handle(self, *args, file, create_members, no_points, **options):
        try:
            result = receipts_import(
                path=file, create_members=create_members, earn_points=not no_points
            )
        except (ImportFileError, ReceiptImportConflict) as exc:
            raise CommandError(f"{file}: {exc.message} Nothing was imported.") from None
        for problem in result.problems:
            self.stderr.write(f"{file}: {problem}")
        points = "not earned (--no-points)" if no_points else f"{result.points} posted"
        self.stdout.write(
            f"receipts added: {result.added} ({result.lines} lines), skipped as already present: "
            f"{result.skipped}, bad rows: {len(result.problems)}, members created: "
            f"{result.members_created}, too old to earn: {result.too_old}, "
            f"linked to approved claims (no points again): {result.linked_to_claims}, "
            f"points: {points} in {result.entries} entries, "
            f"{result.seconds:.1f} s ({result.file.rows} rows, {result.file.encoding})"
        )
        if result.problems:
            raise CommandError(
                f"{len(result.problems)} bad row(s) skipped (listed above); the other receipts "
                "were imported."
            )
