"""Exports are opened in spreadsheets: cells that look like formulas are neutralised.

Every CSV and XLSX the app writes (lists, reports, failed import rows) passes its cells, the
header row included, through `neutralise_cell`: a cell beginning with =, +, -, @, a tab, a
carriage return or a NUL gets a leading ' (OWASP's advice), so Excel, LibreOffice and Google
Sheets show it as text instead of running it. Numbers stay numbers: a number value is never
touched, nor is text that is only a negative number ("-12.50"). The imports take the quote off
again (closeloop/leads/imports/reading.py), so an exported file can be edited and imported.
"""

import csv
import re
from collections.abc import Iterable
from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\x00")
# "-12", "-12.50", "-1,234.50": a spreadsheet reads these as negative numbers and runs nothing
NEGATIVE_NUMBER = re.compile(r"-(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")


def neutralise_cell(value: Any) -> Any:
    """Prefix text that a spreadsheet would run as a formula with a quote (numbers pass)."""
    if (
        isinstance(value, str)
        and value.startswith(FORMULA_PREFIXES)
        and not NEGATIVE_NUMBER.fullmatch(value)
    ):
        return "'" + value
    return value


def neutralise_row(cells: Iterable[Any]) -> list[Any]:
    """A row with every cell neutralised (see `neutralise_cell`)."""
    return [neutralise_cell(cell) for cell in cells]


class _Echo:
    """A file-like object whose write returns the line, so csv.writer can feed a stream."""

    def write(self, value: str) -> str:
        return value


def csv_download(rows: Any, columns: list[tuple[str, Any]], name: str) -> Any:
    """Stream a queryset as a CSV download: UTF-8 BOM, a header row, neutralised cells."""
    from django.http import StreamingHttpResponse
    from django.utils import timezone

    def lines() -> Any:
        writer = csv.writer(_Echo())
        yield "\ufeff"  # lets spreadsheet programs read the file as UTF-8
        # the header too: a failed-rows file repeats the uploaded file's own column names
        yield writer.writerow(neutralise_row(column for column, _ in columns))
        for row in rows.iterator(chunk_size=2000):
            yield writer.writerow(neutralise_row(get(row) for _, get in columns))

    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
    return response
