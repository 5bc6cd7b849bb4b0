"""Uploaded files: their type judged from their bytes (never from the file name or what the
browser says), size limits stated in words, and the type a stored file is served with.

Every stored file is handed out as a download (Content-Disposition: attachment) with
`X-Content-Type-Options: nosniff` and a sandboxing Content-Security-Policy; `served_type` adds
that a type a browser would render as a page or run (HTML, SVG, XML, scripts) is never sent as
such, whatever the upload or the email it came from claimed.
"""

from __future__ import annotations

import io
import math
import zipfile

OCTET_STREAM = "application/octet-stream"
ZIP = "application/zip"
EXECUTABLE = "application/x-executable"
HTML = "text/html"
SVG = "image/svg+xml"
XML = "application/xml"
MARKUP_TYPES = frozenset({HTML, SVG, XML})

WORD = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
EXCEL = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
POWERPOINT = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
# the part each Office Open XML document must hold besides [Content_Types].xml
OFFICE_PARTS = (("word/document.xml", WORD), ("xl/workbook.xml", EXCEL),
                ("ppt/presentation.xml", POWERPOINT))  # fmt: skip

MAGIC = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-ole-storage"),  # .doc, .xls, .msg
    (b"\x1f\x8b", "application/gzip"),
    (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (b"Rar!\x1a\x07", "application/vnd.rar"),
)
EXECUTABLE_MAGIC = (
    b"MZ",  # Windows
    b"\x7fELF",  # Linux
    b"\xfe\xed\xfa\xce",  # Mach-O
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
    b"#!",  # scripts
)
# markup a browser could run; looked for in the first bytes of anything that reads as text
MARKUP = (b"<!doctype", b"<html", b"<svg", b"<script", b"<?xml", b"<head", b"<body", b"<iframe")

# types a stored file may be served with; anything else goes out as application/octet-stream
SERVED_TYPES = frozenset(
    {
        "application/pdf",
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        WORD,
        EXCEL,
        POWERPOINT,
        "text/plain",
        "text/csv",
        "text/calendar",
        ZIP,
        "application/gzip",
    }
)


def _office_type(content: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile:
        return ZIP
    if "[Content_Types].xml" in names:
        for part, content_type in OFFICE_PARTS:
            if part in names:
                return content_type
    return ZIP


def _text_type(content: bytes, name: str) -> str | None:
    if b"\x00" in content[:8192]:
        return None
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = content.decode("cp1252")
        except UnicodeDecodeError:
            return None
    if any(ord(ch) < 32 and ch not in "\t\n\r\f" for ch in text[:4096]):
        return None  # binary data that happens to decode
    head = text[:4096].lower().encode("utf-8", "ignore")
    if head.lstrip().startswith(b"<") or any(mark in head for mark in MARKUP):
        if b"<svg" in head:
            return SVG
        return XML if head.lstrip().startswith(b"<?xml") and b"<html" not in head else HTML
    # text is text: the name only tells comma-separated values from other text
    return "text/csv" if name.lower().endswith(".csv") else "text/plain"


def content_type_of(content: bytes, name: str = "") -> str:
    """The type of a file judged from its bytes: known magic numbers, the parts of a ZIP
    (Word, Excel, PowerPoint or a plain archive), programs, markup (HTML, SVG, XML), text;
    application/octet-stream for anything else."""
    head = content[:16]
    for magic, content_type in MAGIC:
        if head.startswith(magic):
            return content_type
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"PK\x03\x04"):
        return _office_type(content)
    if head.startswith(EXECUTABLE_MAGIC):
        return EXECUTABLE
    return _text_type(content, name) or OCTET_STREAM


def served_type(content_type: str) -> str:
    """The Content-Type to hand a stored file out with: its own when it is a plain document,
    image or archive; application/octet-stream for anything a browser might render or run."""
    base = (content_type or "").split(";")[0].strip().lower()
    return base if base in SERVED_TYPES else OCTET_STREAM


def size_text(size: int) -> str:
    """A byte count in words: "20 MB", "512 KB", "900 bytes"; rounded up to a tenth, so a file
    just over a limit never reads as the limit itself."""
    if size >= 1024 * 1024:
        value, unit = size / (1024 * 1024), "MB"
    elif size >= 1024:
        value, unit = size / 1024, "KB"
    else:
        return f"{size} byte{'' if size == 1 else 's'}"
    return f"{math.ceil(value * 10) / 10:.1f}".removesuffix(".0") + f" {unit}"


def too_large(name: str, limit: int, size: int | None = None) -> str:
    """The message for a file over a size limit, naming the file and the limit (and the file's
    size when it was read to the end)."""
    if size is None:
        return f"“{name}” is larger than {size_text(limit)}, the most accepted here."
    return f"“{name}” is {size_text(size)}; at most {size_text(limit)} is accepted here."
