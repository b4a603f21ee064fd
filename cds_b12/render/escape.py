"""Render layer: values from FHIR data made inert before they reach card text.

Imports only the standard library. EHRs render ``card.detail`` as Markdown (and some
summaries and labels too), so an Observation unit ``[Verify dose](https://e.vil/x)``
or an id with newlines in it must read as the characters it holds, never as a link,
heading, emphasis, raw HTML or a new paragraph. ``wording.fill`` passes every value
it inserts through ``escape`` unless the value is ``Markup``: text the renderer itself
made from the templates in ``cards/`` (which are trusted), so nesting never escapes
twice. One place, so a new fact or note cannot forget it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

# CommonMark lets a backslash escape any ASCII punctuation; these start inline markup
# (emphasis, code, links and images, strikethrough, tables, headings, escapes). A link or
# image needs its brackets, so parentheses and "!" stay as they are: "(since 2020)" reads
# the same in the Markdown source and on the page.
_INLINE = re.compile(r"([\\`*_\[\]~|#])")
# At the start of a value, which a template may place at the start of a line: block
# markers (lists, quotes, setext underlines, ordered lists).
_LEADING_BLOCK = re.compile(r"^([-+=])|^(\d{1,9})([.)])(?=\s|$)")
# GitHub Markdown turns bare addresses into links ("extended autolinks").
_AUTOLINK = re.compile(r"(:)(//)|\b(www)(\.)|(@)", re.IGNORECASE)
# Every character the three above (and HTML) act on, in one search: most values (dates,
# numbers, ids, names) hold none, and need no substitution at all.
_MAYBE_MARKUP = re.compile(r"[\\`*_\[\]~|#&<>:@]|www\.", re.IGNORECASE)
_LEADING_CHARS = frozenset("-+=")  # with a leading digit, what _LEADING_BLOCK can match
# Text none of the above can touch: one line, no space, none of their characters, no dot
# after leading digits; most values (dates, counts, ids) are such, and go as they are.
_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9/-]*")


class Markup(str):
    """Text the renderer composed from trusted templates: inserted as it is."""

    __slots__ = ()

    @classmethod
    def joined(cls, separator: str, parts: Iterable[str]) -> Markup:
        """``separator.join(parts)``, escaping any part that is not Markup; the separator
        is the renderer's own (code or ``cards/``) and is kept as it is, spaces and all."""
        return cls(separator.join(escape(part) for part in parts))


def escape(value: object) -> Markup:
    """``value`` as plain text in Markdown and HTML: one line, no markup, no raw tags."""
    if isinstance(value, Markup):
        return value
    text = str(value)
    if _PLAIN.fullmatch(text):
        return Markup(text)
    return _escaped(text)


# What ``escape`` writes, undone: a backslash before a character it escapes (inline
# markup, block markers, the broken autolinks) and its three HTML entities, "&amp;" last.
_BACKSLASHED = re.compile(r"\\([\\`*_\[\]~|#\-+=.)/@])")
_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))


def unescape(text: str) -> str:
    """``text`` as a Markdown renderer shows the values ``escape`` made inert (a terminal
    shows ">2000 pg/mL", not "&gt;2000 pg/mL"); the templates' own markup stays."""
    text = _BACKSLASHED.sub(r"\1", text)
    for entity, char in _ENTITIES:
        text = text.replace(entity, char)
    return text


def plain(text: str) -> bool:
    """Whether ``text`` is what ``escape`` passes as it is for holding only letters,
    digits, "/" and "-" (an id): text it follows can tell where it ends."""
    return _PLAIN.fullmatch(text) is not None


def _escaped(text: str) -> Markup:
    """``escape`` of text that may hold markup or more than one line."""
    text = _one_line(text)
    if _MAYBE_MARKUP.search(text):
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        text = _INLINE.sub(r"\\\1", text)
        text = _AUTOLINK.sub(_break_autolink, text)
    if text[:1] in _LEADING_CHARS or text[:1].isdigit():
        text = _LEADING_BLOCK.sub(_break_block, text)
    return Markup(text)


def _one_line(text: str) -> str:
    """Whitespace collapsed; control and format characters (bidi overrides, zero-width
    joiners, NUL) dropped, so nothing can start a paragraph or disguise itself."""
    if text.isascii() and text.isprintable():
        return " ".join(text.split())  # the usual case: no control characters, only " "
    kept = "".join(
        " " if ch.isspace() else ch
        for ch in text
        if ch.isspace() or unicodedata.category(ch) not in ("Cc", "Cf")
    )
    return " ".join(kept.split())


def _break_block(m: re.Match[str]) -> str:
    return "\\" + m.group(1) if m.group(1) else m.group(2) + "\\" + m.group(3)


def _break_autolink(m: re.Match[str]) -> str:
    if m.group(1):
        return r":\/\/"
    if m.group(3):
        return m.group(3) + r"\."
    return r"\@"
