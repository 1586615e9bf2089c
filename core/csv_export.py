"""Writing an operator's CSV file: UTF-8, a header row, "\n" line ends, rows streamed."""

import csv
from collections.abc import Iterable


def csv_file_write(path: str, header: list[str], rows: Iterable[tuple]) -> int:
    """Write `header` and `rows` to `path`; the number of rows written."""
    count = 0
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow(row)
            count += 1
    return count
