"""Reading uploaded CSV and XLSX files as a header and a stream of rows, never the whole file.

CSV: the encoding is taken from a byte-order mark, else UTF-8 if the first 64 KB decode as such,
else UTF-16 without a mark (NUL bytes), else charset-normalizer's guess on that sample, where
Windows-1252 wins over the other Latin code pages it cannot be told apart from. The delimiter
(comma, semicolon, tab or pipe) is the one that splits the sample into the most consistent
records. XLSX: the first sheet, through openpyxl's read-only mode.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from charset_normalizer import from_bytes

from closeloop.core.exceptions import DomainError
from closeloop.core.export import FORMULA_PREFIXES

SAMPLE_BYTES = 64 * 1024
DELIMITERS = (",", ";", "\t", "|")
MAX_CELL = 16 * 1024 * 1024
# Latin-script single-byte code pages a short sample cannot tell apart from Windows-1252.
LATIN_GUESSES = {"cp1250", "cp1252", "cp1257", "latin_1", "iso8859_2", "iso8859_15", "mac_roman"}
CSV_TYPES = (".csv", ".txt", ".tsv")

csv.field_size_limit(MAX_CELL)  # the default (128 KB) would stop at one long note


@dataclass
class Table:
    """A file's header and a way to stream its data rows as (row number, cells)."""

    kind: str
    headers: list[str]
    encoding: str = ""
    delimiter: str = ""
    rows_estimate: int | None = None
    _rows: Iterator[tuple[int, list[Any]]] | None = field(default=None, repr=False)
    _close: list[Any] = field(default_factory=list, repr=False)

    def rows(self) -> Iterator[tuple[int, list[Any]]]:
        """Data rows with their number in the file (the header is row 1); blank rows left out."""
        assert self._rows is not None
        return self._rows

    def close(self) -> None:
        for close in self._close:
            close()

    def __enter__(self) -> Table:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def file_kind(name: str, head: bytes) -> str:
    """'csv' or 'xlsx' from the first bytes (a ZIP is read as a workbook, whatever its name);
    a clear refusal for anything else, and for names that are neither (.pdf, .exe …)."""
    suffix = Path(name or "").suffix.lower()
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise DomainError("Old Excel files (.xls) cannot be read: save the sheet as .xlsx or CSV.")
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"  # whatever the name says; _open_xlsx checks it is a workbook
    if suffix in (".xlsx", ".xlsm"):
        raise DomainError(f"“{name}” is not a valid XLSX file.")
    if suffix not in (*CSV_TYPES, ""):
        raise DomainError(
            f"“{name}” is not a CSV or XLSX file (only .csv and .xlsx can be imported)."
        )
    for magic, what in (
        (b"%PDF", "a PDF"),
        (b"\x89PNG", "an image"),
        (b"\xff\xd8\xff", "an image"),
    ):
        if head.startswith(magic):
            raise DomainError(f"“{name}” is {what}, not a CSV or XLSX file.")
    return "csv"


def detect_encoding(sample: bytes) -> str:
    """The encoding of a CSV file, judged from its first bytes."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        if b"\x00" not in sample:
            return "utf-8"
    except UnicodeDecodeError:
        pass
    if sample.count(b"\x00") > len(sample) // 4:
        # UTF-16 without a mark: ASCII text puts the zero byte after (LE) or before (BE) each char
        even_zeros = sample[0::2].count(0)
        return "utf-16-be" if even_zeros > len(sample) // 4 else "utf-16-le"
    best = from_bytes(sample).best()
    guess = codecs.lookup(best.encoding).name.replace("-", "_") if best else "cp1252"
    if guess in LATIN_GUESSES or guess.startswith("iso8859"):
        try:
            sample.decode("cp1252")
            return "cp1252"
        except UnicodeDecodeError:
            return "latin-1"
    return guess


def _binary_looking(text: str) -> bool:
    controls = sum(1 for ch in text[:4096] if ord(ch) < 32 and ch not in "\r\n\t")
    return controls > 8


def sniff_delimiter(sample: str, *, complete: bool) -> str:
    """The delimiter that splits the sample into the most consistent multi-column records."""
    best, best_score = ",", (-1.0, 0)
    for delimiter in DELIMITERS:
        records = [r for r in csv.reader(io.StringIO(sample), delimiter=delimiter) if r]
        if not complete and len(records) > 1:
            records = records[:-1]  # the sample may end in the middle of a record
        if not records or len(records[0]) < 2:
            continue
        width = len(records[0])
        consistent = sum(1 for r in records if len(r) == width) / len(records)
        score = (consistent, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def unique_headers(raw: list[Any]) -> list[str]:
    """Header names as text, blanks named by position and repeats numbered."""
    headers: list[str] = []
    seen: dict[str, int] = {}
    for position, value in enumerate(raw, start=1):
        name = str(value if value is not None else "").strip().lstrip("\ufeff").strip()
        name = name or f"Column {position}"
        if name.lower() in seen:
            seen[name.lower()] += 1
            name = f"{name} ({seen[name.lower()]})"
        else:
            seen[name.lower()] = 1
        headers.append(name)
    return headers


def _unquote(value: str) -> str:
    # Our exports write '=… as text so spreadsheets do not run it; reading reverses that.
    if value[:1] == "'" and value[1:2] and value[1:2] in FORMULA_PREFIXES:
        return value[1:]
    return value


def _csv_rows(reader: Iterator[list[str]], first: int) -> Iterator[tuple[int, list[Any]]]:
    number = first
    for record in reader:
        number += 1
        joined = "".join(record)
        if not joined.strip():
            continue
        if "\x00" in joined:  # NUL bytes cannot be stored in text columns
            record = [cell.replace("\x00", "") for cell in record]
        yield number, [_unquote(cell) for cell in record] if "'" in joined else record


def _open_csv(stream: IO[bytes], name: str) -> Table:
    sample = stream.read(SAMPLE_BYTES)
    complete = len(sample) < SAMPLE_BYTES
    if not sample.strip(b" \r\n\t\x00\xef\xbb\xbf\xff\xfe"):
        raise DomainError(f"“{name}” is empty: there is nothing to import.")
    encoding = detect_encoding(sample)
    stream.seek(0)
    text = io.TextIOWrapper(stream, encoding=encoding, errors="replace", newline="")
    head = text.read(SAMPLE_BYTES)
    if _binary_looking(head):
        raise DomainError(f"“{name}” does not look like a CSV file (it holds binary data).")
    delimiter = sniff_delimiter(head, complete=complete)
    text.seek(0)
    reader = csv.reader(text, delimiter=delimiter)
    number, header = 0, None
    for record in reader:
        number += 1
        if any(cell.strip() for cell in record):
            header = record
            break
    text.detach()  # keep the byte stream open for the reading pass
    if header is None:
        raise DomainError(f"“{name}” is empty: there is nothing to import.")
    size = stream.seek(0, io.SEEK_END)
    # progress only: newlines in the sample scaled to the file size
    estimate = round(
        max(head.count("\n") - 1, 1) * size / max(len(head.encode(encoding, "replace")), 1)
    )
    stream.seek(0)
    text = io.TextIOWrapper(stream, encoding=encoding, errors="replace", newline="")
    reader = csv.reader(text, delimiter=delimiter)
    for _ in range(number):
        next(reader)
    return Table(
        kind="csv",
        headers=unique_headers(header),
        encoding=encoding,
        delimiter=delimiter,
        rows_estimate=estimate if not complete else None,
        _rows=_csv_rows(reader, number),
        _close=[text.detach],  # the caller owns (and closes) the byte stream
    )


def _xlsx_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str):
        return _unquote(value)
    return value


def _xlsx_rows(rows: Iterator[tuple[Any, ...]], first: int) -> Iterator[tuple[int, list[Any]]]:
    for number, row in enumerate(rows, start=first + 1):
        cells = [_xlsx_cell(v) for v in row]
        while cells and cells[-1] == "":
            cells.pop()
        if not any(str(c).strip() for c in cells):
            continue
        yield number, cells


WORKBOOK_PARTS = frozenset({"[Content_Types].xml", "xl/workbook.xml"})


def _workbook_check(stream: IO[bytes], name: str) -> None:
    """Refuse a ZIP that is not an Excel workbook (a Word file, any other archive) by name."""
    try:
        with zipfile.ZipFile(stream) as archive:  # leaves the stream open
            parts = set(archive.namelist())
    except zipfile.BadZipFile as exc:
        raise DomainError(f"“{name}” is not a valid XLSX file.") from exc
    finally:
        stream.seek(0)
    if not parts >= WORKBOOK_PARTS:
        raise DomainError(
            f"“{name}” is a ZIP archive but not an Excel workbook: only XLSX and CSV files can "
            "be imported."
        )


def _open_xlsx(stream: IO[bytes], name: str) -> Table:
    from openpyxl import load_workbook

    _workbook_check(stream, name)
    try:
        book = load_workbook(stream, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise DomainError(f"“{name}” is not a valid XLSX file.") from exc
    sheet = book.worksheets[0] if book.worksheets else None
    if sheet is None:
        book.close()
        raise DomainError(f"“{name}” has no sheets.")
    rows = sheet.iter_rows(values_only=True)
    number, header = 0, None
    for row in rows:
        number += 1
        if any(v not in (None, "") for v in row):
            header = list(row)
            break
    if header is None:
        book.close()
        raise DomainError(f"“{name}” is empty: there is nothing to import.")
    while header and header[-1] in (None, ""):
        header.pop()
    total = sheet.max_row if isinstance(sheet.max_row, int) else None
    return Table(
        kind="xlsx",
        headers=unique_headers(header),
        rows_estimate=(total - number) if total else None,
        _rows=_xlsx_rows(rows, number),
        _close=[book.close],
    )


def open_table(stream: IO[bytes], *, name: str) -> Table:
    """Open a CSV or XLSX file for streaming; refuses empty, unreadable and other files."""
    stream.seek(0)
    head = stream.read(8)
    stream.seek(0)
    if not head:
        raise DomainError(f"“{name}” is empty (0 bytes): there is nothing to import.")
    if file_kind(name, head) == "xlsx":
        return _open_xlsx(stream, name)
    return _open_csv(stream, name)
