"""Reading the operators' CSV files (import_members, import_receipts) and reporting their rows.

Files come from Excel and old tills: UTF-8 with or without a BOM, or GBK (read as GB18030,
its superset); CRLF, LF or CR line ends; quoted commas and newlines. Every cell is text:
nothing here turns "0012" into 12. The header names the columns (any order, any case); a
missing, repeated or unknown column, a quote left open or an undecodable byte stops the file
before anything is written. Bad rows are collected with the line they start on, and the
importers keep the good ones: the policy is a per-row report, never a silent half-import.
"""

import codecs
import csv
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from core.exceptions import ServiceError

ENCODINGS = ("utf-8-sig", "gb18030")
CHUNK = 1 << 20
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class ImportFileError(ServiceError):
    """The file as a whole cannot be read; nothing was imported."""

    code = "import_file"


class RowError(ValueError):
    """One cell is wrong; the message names the column."""


@dataclass(frozen=True)
class Row:
    line: int  # the line the record starts on; the header is line 1
    cells: dict[str, str]
    error: str = ""  # a record with too few or too many cells; `cells` as far as they go


@dataclass(frozen=True)
class Problem:
    line: int
    message: str

    def __str__(self):
        # A cell quoted in the message may hold control characters (a NUL from an old till):
        # the report shows them escaped, never raw on the operator's terminal.
        message = CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", self.message)
        return f"line {self.line}: {message}"


@dataclass
class FileInfo:
    path: str
    encoding: str = ""
    sha256: str = ""
    rows: int = 0
    problems: list[Problem] = field(default_factory=list)


def file_encoding(path: Path) -> tuple[str, str]:
    """The encoding that decodes the whole file (UTF-8 first), and the file's SHA-256."""
    digest = hashlib.sha256()
    decoders = {name: codecs.getincrementaldecoder(name)() for name in ENCODINGS}
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            for name, decoder in list(decoders.items()):
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    del decoders[name]
    for name, decoder in decoders.items():
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return name, digest.hexdigest()
    raise ImportFileError("The file is neither UTF-8 nor GBK text.")


def csv_rows(info: FileInfo, columns: tuple[str, ...]) -> Iterator[Row]:
    """The file's records as {column: stripped text}, blank lines skipped; a record with a
    wrong number of cells comes with `error` set."""
    path = Path(info.path)
    if not path.is_file():
        raise ImportFileError(f"No such file: {info.path}")
    info.encoding, info.sha256 = file_encoding(path)
    with path.open(encoding=info.encoding, newline="") as handle:
        reader = csv.reader(handle, strict=True)
        try:
            header = next(reader, None)
            if header is None:
                raise ImportFileError("The file is empty.")
            index = _header(header, columns)
            names, positions = list(index), list(index.values())
            width, used = len(header), set(positions)
            end = reader.line_num
            for record in reader:
                start, end = end + 1, reader.line_num
                if len(record) > width and not any(cell.strip() for cell in record[width:]):
                    record = record[:width]  # trailing empty cells
                if len(record) == width:  # the common case, quickly
                    values = [record[i].strip() for i in positions]
                    if any(values) or any(cell.strip() for cell in record):
                        info.rows += 1
                        stray = width > len(used) and any(
                            record[i].strip() for i in range(width) if i not in used
                        )
                        error = "a cell under no column heading is filled" if stray else ""
                        yield Row(start, dict(zip(names, values, strict=True)), error)
                    continue
                if not any(cell.strip() for cell in record):
                    continue
                info.rows += 1
                values = [record[i].strip() if i < len(record) else "" for i in positions]
                yield Row(
                    start,
                    dict(zip(names, values, strict=True)),
                    f"{width} cells expected, {len(record)} found",
                )
        except csv.Error as exc:
            raise ImportFileError(f"line {reader.line_num}: {exc} (a quote left open?)") from None
        except UnicodeDecodeError:  # file_encoding read it all: the file changed meanwhile
            raise ImportFileError("The file changed while it was read.") from None


def _header(header: list[str], columns: tuple[str, ...]) -> dict[str, int]:
    names = [name.strip().lstrip("\ufeff").lower() for name in header]
    index: dict[str, int] = {}
    for i, name in enumerate(names):
        if not name:
            continue
        if name not in columns:
            raise ImportFileError(f"Unknown column {name!r}; the columns are {','.join(columns)}.")
        if name in index:
            raise ImportFileError(f"The column {name!r} appears twice.")
        index[name] = i
    missing = [name for name in columns if name not in index]
    if missing:
        raise ImportFileError(
            f"Missing column(s) {', '.join(missing)}; the header must be {','.join(columns)}."
        )
    return index


# --- Cells --------------------------------------------------------------------------------


def text(value: str, column: str, max_length: int, *, required: bool = False) -> str:
    """Free text stored as it is (a name starting with "=" is only a risk in an export, which
    must neutralise it); control characters, which no till prints, are refused."""
    if required and not value:
        raise RowError(f"{column}: required")
    if len(value) > max_length:
        raise RowError(f"{column}: longer than {max_length} characters")
    if CONTROL.search(value):
        raise RowError(f"{column}: contains control characters")
    return value


def parsed(parse, value: str, column: str):
    """`parse(value)` for a cell; the rule's ValueError as a RowError naming the column (card
    numbers: members.cards.card_no_clean, which this layer cannot import)."""
    try:
        return parse(value)
    except ValueError as exc:
        raise RowError(f"{column}: {exc}") from None


def day(value: str, column: str) -> date:
    if value.isdigit() and len(value) <= 5:
        raise RowError(f"{column}: {value!r} looks like an Excel date number; use YYYY-MM-DD")
    if not DATE.match(value):
        raise RowError(f"{column}: YYYY-MM-DD expected, got {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise RowError(f"{column}: no such date {value!r}") from None


def moment(value: str, column: str, tz) -> datetime:
    """A time as ISO 8601: with an offset, or without one meaning the mall's time zone."""
    if DATE.match(value):
        return datetime.combine(day(value, column), datetime.min.time(), tzinfo=tz)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise RowError(
            f"{column}: ISO time expected (2026-11-23 10:15:00 or 2026-11-23T10:15:00+08:00),"
            f" got {value!r}"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)
