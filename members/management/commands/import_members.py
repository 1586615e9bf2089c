from django.core.management.base import BaseCommand, CommandError

from core.csv_import import ImportFileError
from members.importing import MEMBER_COLUMNS, members_import


class Command(BaseCommand):
    help = (
        f"Create or update members by card number from a CSV file with the columns "
        f"{','.join(MEMBER_COLUMNS)} (UTF-8, with or without BOM, or GBK). Empty cells leave "
        "a member's field as it is. Bad rows are listed on stderr by line and skipped; the "
        "good rows are imported, and the exit status is 1 if any row was bad."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the CSV file")

    def handle(self, *args, file, **options):
        try:
            result = members_import(path=file)
        except ImportFileError as exc:
            raise CommandError(f"{file}: {exc.message} Nothing was imported.") from None
        for problem in result.problems:
            self.stderr.write(f"{file}: {problem}")
        self.stdout.write(
            f"members: {result.created} created, {result.updated} updated, "
            f"{result.unchanged} unchanged, {len(result.problems)} bad rows "
            f"({result.file.rows} rows, {result.file.encoding}) in {result.seconds:.1f} s"
        )
        if result.problems:
            raise CommandError(
                f"{len(result.problems)} bad row(s) skipped (listed above); the other rows "
                "were imported."
            )
