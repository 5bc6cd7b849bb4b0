"""Exports are opened in spreadsheets: cells that look like formulas are neutralised."""

import csv
from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: Any) -> Any:
    """Prefix text that a spreadsheet would run as a formula with a quote (numbers pass)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


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
        yield writer.writerow([column for column, _ in columns])
        for row in rows.iterator(chunk_size=2000):
            yield writer.writerow([neutralise_cell(get(row)) for _, get in columns])

    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
    return response
