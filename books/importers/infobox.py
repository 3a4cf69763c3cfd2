"""Wiki markup to display text, and a Wikipedia book infobox to the catalogue's fields.

The dump keeps infobox values as lightly processed wikitext: links (``[[Science fiction]]``,
``[[A|B]]``), templates (``{{nowrap|...}}``, ``{{ubl|a|b}}``), references and HTML comments, bold and
italics, and HTML tags whose angle brackets the dump spaced out (``< ref >``, ``< br / >``,
``< !-- ... -- >``). ``strip_markup`` turns all of them into the text a reader sees.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from urllib.parse import quote

from books.importers.normalise import normalise_authors, normalise_country, normalise_genres, normalise_language

AUTHOR_KEYS = ("author", "authors")
GENRE_KEYS = ("genre", "genres")
YEAR_KEYS = ("pub_date", "release_date", "published", "english_pub_date", "english_release_date")

# Templates whose positional arguments are the displayed text (lists, wrappers, dates).
_LIST_TEMPLATES = {"ubl", "unbulleted list", "plainlist", "plain list", "flatlist", "flat list", "hlist", "bulleted list",
                   "collapsible list", "cslist"}
_WRAPPER_TEMPLATES = {"nowrap", "nobr", "small", "big", "sc", "smallcaps", "nowrap begin", "lang", "transl", "nihongo",
                      "start date", "start date and age", "release date", "publication date and age", "dts", "date",
                      "birth date", "film date", "circa", "c.", "isbn", "oclc"}

_COMMENT = re.compile(r"<\s*!--.*?--\s*>|<\s*!--.*\Z", re.DOTALL)
_REF = re.compile(
    r"<\s*ref\b[^<>]*/\s*>"                       # <ref name=x/>
    r"|<\s*ref\b[^<>]*>.*?<\s*/\s*ref\s*>"        # <ref>...</ref>
    r"|<\s*ref\b[^<>]*>.*\Z",                     # <ref>... cut off by the end of the value
    re.DOTALL | re.IGNORECASE,
)
_LINE_BREAK = re.compile(r"<\s*br\s*/?\s*>|<\s*/?\s*(?:p|li|div)\b[^<>]*>|\n", re.IGNORECASE)
_TAG = re.compile(r"<\s*/?\s*[a-zA-Z][a-zA-Z0-9]*\b[^<>]*>")
_INNER_TEMPLATE = re.compile(r"\{\{([^{}]*)\}\}")
_INNER_LINK = re.compile(r"\[\[([^\[\]]*)\]\]")
_EXTERNAL_LINK = re.compile(r"\[(?:https?:)?//[^\s\]]*\s*([^\]]*)\]")
_EMPHASIS = re.compile(r"'{2,}")
_NON_ARTICLE_LINK = re.compile(r"^\s*:?\s*(?:file|image|category|media)\s*:", re.IGNORECASE)
_SPACE_BEFORE_COMMA = re.compile(r"\s+,")
_REPEATED_COMMAS = re.compile(r",(?:\s*,)+")
# A missing line break in the source glues the next parameter onto a value: "Title | followed_by = Next".
_LEAKED_PARAMETER = re.compile(r"\|\s*\w+\s*=.*\Z", re.DOTALL)
_YEAR = re.compile(r"(?<![\d-])(\d{4})(?!\d)")
_INTEGER = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(?![\d.])")
_ISBN = re.compile(r"(?:97[89][\s-]?)?(?:\d[\s-]?){9}[\dXx]")
_FILE_PREFIX = re.compile(r"^\s*(?:file|image)\s*:\s*", re.IGNORECASE)
_URL = re.compile(r"^https?://\S+$")
WIKIPEDIA_FILE_PATH = "https://en.wikipedia.org/wiki/Special:FilePath/"
COVER_WIDTH = 300

MAX_PAGES = 2_147_483_647  # PositiveIntegerField


@dataclass(frozen=True)
class InfoboxFields:
    """The catalogue's fields read from one infobox; blank or ``None`` where the infobox says nothing usable."""

    author: str = ""
    genre: str = ""
    country: str = ""
    language: str = ""
    publisher: str = ""
    pages: int | None = None
    pages_raw: str = ""
    publication_year: int | None = None
    isbn: str = ""
    cover_url: str = ""


def parse_infobox(infobox: dict[str, str]) -> InfoboxFields:
    """Read display text for author, genre, country, language, publisher, pages, year, ISBN and cover.

    Authors, genres, country and language come out in the catalogue's one spelling (``normalise``).
    """
    values = {key.strip().lower(): value for key, value in infobox.items()}
    pages_raw = strip_markup(values.get("pages", ""))
    return InfoboxFields(
        author=normalise_authors(_first_text(values, AUTHOR_KEYS)),
        genre=normalise_genres(_first_text(values, GENRE_KEYS)),
        country=normalise_country(strip_markup(values.get("country", ""))),
        language=normalise_language(strip_markup(values.get("language", ""))),
        publisher=strip_markup(values.get("publisher", "")),
        pages=first_integer(pages_raw),
        pages_raw=pages_raw,
        publication_year=next(
            (year for key in YEAR_KEYS if (year := first_year(strip_markup(values.get(key, "")))) is not None), None
        ),
        isbn=first_isbn(strip_markup(values.get("isbn", ""))),
        cover_url=cover_url_of_image(values.get("image", "")),
    )


CONTRIBUTOR_KEYS = {"translator": "translator", "translators": "translator", "illustrator": "illustrator",
                    "illustrators": "illustrator", "editor": "editor", "editors": "editor"}
"""Infobox fields that name a book's other people, and the role each gives."""


def contributors_of(infobox: dict[str, str]) -> list[tuple[str, str]]:
    """``[(name, role)]`` of the translators, illustrators and editors an infobox names."""
    people = []
    for key, value in infobox.items():
        role = CONTRIBUTOR_KEYS.get(key.strip().lower())
        if role is not None and isinstance(value, str):
            names = normalise_authors(strip_markup(value))
            people += [(name.strip(), role) for name in names.split(",") if name.strip()]
    return list(dict.fromkeys(people))


def strip_markup(value: str) -> str:
    """The text a reader sees: links, templates, references, comments, tags and emphasis removed.

    Line breaks (``<br>``, new lines, list templates) become ", " so that "A<br>B" reads "A, B".
    """
    text = _COMMENT.sub("", value)
    text = _REF.sub("", text)
    text = _LINE_BREAK.sub(", ", text)
    text = _TAG.sub("", text)
    text = _replace_innermost(_INNER_TEMPLATE, _render_template, text)
    text = _replace_innermost(_INNER_LINK, _render_link, text)
    text = _LEAKED_PARAMETER.sub("", text)
    text = _EXTERNAL_LINK.sub(lambda match: match.group(1), text)
    text = _EMPHASIS.sub("", text)
    text = html.unescape(text).replace("\xa0", " ")
    text = _REPEATED_COMMAS.sub(",", _SPACE_BEFORE_COMMA.sub(",", text))
    text = " ".join(text.split())
    return text.strip(" ,;|")


def first_integer(text: str) -> int | None:
    """The first whole number written in arabic digits ("xiii, 301 pp" → 301, "1,001 pages" → 1001)."""
    for match in _INTEGER.finditer(text):
        number = int(match.group(1).replace(",", ""))
        if 0 < number <= MAX_PAGES:
            return number
    return None


def first_year(text: str) -> int | None:
    """The first four-digit number in a date ("1 March 1995" → 1995, "2006 November 7" → 2006)."""
    match = _YEAR.search(text)
    return int(match.group(1)) if match else None


def first_isbn(text: str) -> str:
    """The first ISBN-10 or ISBN-13 in ``text``, as written (hyphens kept); blank if there is none."""
    match = _ISBN.search(text)
    return match.group(0).strip().upper() if match else ""


def cover_url_of_image(value: str) -> str:
    """The URL of an infobox ``image``: a URL as given, a file ("File:Dune.jpg", "[[Image:Dune.png|200px]]") as
    Wikipedia's ``Special:FilePath`` URL of it, 300 pixels wide (it redirects to the image itself); "" if none."""
    text = _COMMENT.sub("", value).strip()
    link = _INNER_LINK.search(text)
    if link:
        text = link.group(1)
    text = text.split("|", 1)[0].strip()
    if _URL.match(text):
        return text
    name = " ".join(_FILE_PREFIX.sub("", html.unescape(text)).replace("_", " ").split())
    if "." not in name or "<" in name or "{" in name:
        return ""
    return f"{WIKIPEDIA_FILE_PATH}{quote(name.replace(' ', '_'))}?width={COVER_WIDTH}"


def _first_text(values: dict[str, str], keys: tuple[str, ...]) -> str:
    return next((text for key in keys if (text := strip_markup(values.get(key, "")))), "")


def _replace_innermost(pattern: re.Pattern, render, text: str) -> str:
    # Innermost first, so that nested markup ({{ubl|[[A]]|{{nowrap|B}}}}) unwinds completely.
    while True:
        replaced = pattern.sub(render, text)
        if replaced == text:
            return replaced
        text = replaced


def _render_template(match: re.Match) -> str:
    name, *arguments = [part.strip() for part in match.group(1).split("|")]
    positional = [argument for argument in arguments if "=" not in argument and argument]
    name = name.lower()
    if name in _LIST_TEMPLATES:
        return ", ".join(positional)
    if name in ("lang", "transl") and positional:
        return positional[-1]
    if name in _WRAPPER_TEMPLATES:
        return " ".join(positional)
    return ""


def _render_link(match: re.Match) -> str:
    target, _, label = match.group(1).partition("|")
    if _NON_ARTICLE_LINK.match(target):
        return ""
    return (label or target).strip()
