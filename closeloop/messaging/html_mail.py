"""HTML mail as mail programs need it: CSS inlined into style attributes, and a text part.

Many mail programs drop <style> blocks, so the rules are written into each element's `style`
(css-inline does it; stylesheets from the network are never fetched). Every HTML mail also
carries a text part, written from the HTML when the template has none.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import css_inline
from django.template.defaultfilters import linebreaksbr
from django.utils.html import urlize

_INLINER = css_inline.CSSInliner(load_remote_stylesheets=False, keep_at_rules=True)

BLOCKS = {
    "address", "article", "aside", "blockquote", "div", "dl", "dt", "dd", "fieldset",
    "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li",
    "main", "nav", "ol", "p", "pre", "section", "table", "tr", "ul",
}  # fmt: skip
SKIPPED = {"head", "script", "style", "title", "template"}


def html_inline_css(html: str) -> str:
    """The HTML with its <style> rules written into style attributes."""
    if not html.strip():
        return ""
    return str(_INLINER.inline(html))


class _TextWriter(HTMLParser):
    """Collects readable text: blocks on their own lines, list items dashed, links with URL."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0
        self.pre = 0
        self.links: list[str | None] = []
        self.link_text: list[str] = []

    def _newlines(self, count: int) -> None:
        self.parts.append("\n" * count)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIPPED:
            self.skipping += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "li":
            self._newlines(1)
            self.parts.append("- ")
        elif tag in ("p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table"):
            self._newlines(2)
        elif tag in BLOCKS:
            self._newlines(1)
        elif tag in ("td", "th"):
            self.parts.append(" ")
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.parts.append(alt)
        if tag == "pre":
            self.pre += 1
        if tag == "a":
            self.links.append(dict(attrs).get("href"))
            self.link_text.append("")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in ("br", "img", "hr"):
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED:
            self.skipping = max(0, self.skipping - 1)
        elif tag in ("p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table"):
            self._newlines(2)
        elif tag in BLOCKS and tag != "li":  # the next item starts its own line
            self._newlines(1)
        if tag == "pre":
            self.pre = max(0, self.pre - 1)
        if tag == "a" and self.links:
            href, text = self.links.pop(), self.link_text.pop().strip()
            if href and href.startswith(("http://", "https://", "mailto:")):
                target = href.removeprefix("mailto:")
                if target != text:
                    self.parts.append(f" ({target})")

    def handle_data(self, data: str) -> None:
        if self.skipping:
            return
        if not self.pre:
            data = re.sub(r"\s+", " ", data)
        if self.link_text:
            self.link_text[-1] += data
        self.parts.append(data)


def html_to_text(html: str) -> str:
    """A plain-text version of an HTML mail: paragraphs, line breaks, lists and link targets."""
    writer = _TextWriter()
    writer.feed(html or "")
    writer.close()
    lines = [line.strip() for line in "".join(writer.parts).splitlines()]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def text_to_html(text: str) -> str:
    """A plain-text signature or note as HTML: escaped, line breaks kept, links clickable."""
    return str(linebreaksbr(urlize(text, autoescape=True), autoescape=False))
