"""Checks of the texts and whole numbers an importer will store in PostgreSQL; each refuses with ``BadLine``."""
from __future__ import annotations

import re

from books.importers.problems import BadLine
from books.importers.wording import shortened
from books.models import Book

INTEGER_MAX = 2_147_483_647
"""The largest value of PostgreSQL's ``integer`` (its smallest is ``-INTEGER_MAX - 1``)."""
_LONGEST_BOUND = 20
"""Digits of the longest bound ``checked_integer`` is given (any 64-bit number): a number with more, leading zeros
aside, is beyond it."""
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
"""A NUL, or a surrogate code point: what PostgreSQL's text cannot hold, or UTF-8 encode."""
TITLE_LIMIT = Book._meta.get_field("title").max_length


def check_text(value: str, field: str | None) -> None:
    """Refuse a NUL character, which PostgreSQL's text and jsonb cannot hold, and a surrogate code point (half of a
    UTF-16 pair on its own, as the JSON escape "\\ud800" reads), which UTF-8 cannot encode. Every text an importer
    stores passes here."""
    unstorable = _UNSTORABLE.search(value)  # one pass over the text: every cell of every file comes here
    if unstorable is None:
        return
    if unstorable[0] == "\x00":
        raise BadLine("contains a NUL character", field)
    raise BadLine(f"contains a surrogate character U+{ord(unstorable[0]):04X}", field)


def checked_integer(text: str, field: str, *, minimum: int, maximum: int = INTEGER_MAX) -> int:
    """``text`` as a whole number from ``minimum`` to ``maximum`` (by default the largest an ``integer`` column holds).

    A whole number is plain digits 0-9, with a minus sign if negative: not "+5", "9_0001", "4.0" or "1e3".
    """
    unsigned = text.removeprefix("-")
    if not (unsigned.isdigit() and unsigned.isascii()):  # as the regex -?[0-9]+, at a fraction of its cost
        raise BadLine(f"expected a whole number, got {shortened(text)!r}" if text else
                      "expected a whole number, got nothing", field)
    significant = unsigned.lstrip("0") or "0"
    if len(significant) > _LONGEST_BOUND:  # beyond either bound: int() of thousands of digits is slow, or refused
        bound = f"at least {minimum}" if text.startswith("-") else f"at most {maximum}"
        raise BadLine(f"expected a number of {bound}, got {shortened(text)}", field)
    number = -int(significant) if text.startswith("-") else int(significant)
    if number < minimum:
        raise BadLine(f"expected a number of at least {minimum}, got {shortened(text)}", field)
    if number > maximum:
        raise BadLine(f"expected a number of at most {maximum}, got {shortened(text)}", field)
    return number


def checked_title(text: str) -> str:
    """A book's title with runs of whitespace folded, refused when empty or longer than the catalogue holds."""
    check_text(text, "title")
    title = " ".join(text.split())
    if not title:
        raise BadLine("expected a title, got an empty string", "title")
    if len(title) > TITLE_LIMIT:
        raise BadLine(f"expected at most {TITLE_LIMIT} characters, got {len(title)}", "title")
    return title
