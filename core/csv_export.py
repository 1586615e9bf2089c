"""Writing CSV: an operator's file (UTF-8, a header row, "\n" line ends, rows streamed) and
staff downloads for Excel, formulas defused."""

import csv
from collections.abc import Iterable

from django.http import HttpResponse

from core.export_formats import formula_escape


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


def csv_download(filename: str, tables: Iterable[tuple[str, list, Iterable]]) -> HttpResponse:
    """A CSV download for Excel (UTF-8 with a BOM) of one or more (title, header, rows)
    tables; with several, each starts with its title and they are a blank line apart. Text
    cells that would start a formula are quoted (core.export_formats.formula_escape)."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")
    writer = csv.writer(response)
    tables = list(tables)
    for index, (title, header, rows) in enumerate(tables):
        if len(tables) > 1:
            if index:
                writer.writerow([])
            writer.writerow([formula_escape(str(title))])
        writer.writerow([formula_escape(str(cell)) for cell in header])
        for row in rows:
            writer.writerow([formula_escape(cell) for cell in row])
    return response
