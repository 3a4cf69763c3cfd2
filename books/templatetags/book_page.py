"""Template helpers of a book as readers see it: its title without the series suffix, where its data comes from, and
its Goodreads ratings (from the goodbooks row the importer keeps in ``Book.metadata``)."""
import re
from urllib.parse import quote

from django import template
from django.utils.html import format_html

from books.models import Book

register = template.Library()

# "The Hunger Games (The Hunger Games, #1)", "Mockingjay (The Hunger Games, #3)", "Sabriel (Abhorsen,  #1)",
# "The Colour of Magic (Discworld, #1; Rincewind #1)": a closing parenthesis that numbers the book in a series.
_SERIES_SUFFIX = re.compile(r"\s*\(([^()]*#\s*\d[^()]*)\)\s*$")
GOODBOOKS_URL = "https://github.com/zygmuntz/goodbooks-10k"


@register.filter
def display_title(title: str) -> str:
    """ "The Hunger Games (The Hunger Games, #1)" → "The Hunger Games"; a title without a series suffix as it is."""
    shown = _SERIES_SUFFIX.sub("", title or "")
    return shown or title


@register.filter
def series_suffix(title: str) -> str:
    """ "The Hunger Games (The Hunger Games, #1)" → "The Hunger Games, #1"; "" when the title names no series."""
    found = _SERIES_SUFFIX.search(title or "")
    return " ".join(found[1].split()) if found and _SERIES_SUFFIX.sub("", title) else ""


@register.filter
def source_label(book: Book) -> str:
    """Where the book's data comes from, in a reader's words, linked to it."""
    if book.source == Book.Source.WIKIPEDIA:
        article = book.external_id.partition(":")[2]
        return format_html('<a href="https://en.wikipedia.org/wiki/{}">Wikipedia article</a>',
                           quote(article.replace(" ", "_"), safe="/:(),'!"))
    if book.source == Book.Source.GOODBOOKS:
        return format_html('<a href="{}">Reader tags from goodbooks-10k</a>', GOODBOOKS_URL)
    return book.get_source_display()


@register.filter
def goodreads_ratings(book: Book) -> dict | None:
    """The book's Goodreads ratings from its goodbooks row: {"average", "count", "rows": [{"stars", "count",
    "share"}, 5 stars first]}; None for a book without them (a Wikipedia book, a row missing or garbling them)."""
    row = book.metadata or {}
    try:
        average = float(row["average_rating"])
        counts = {stars: int(row[f"ratings_{stars}"]) for stars in range(5, 0, -1)}
    except (KeyError, TypeError, ValueError):
        return None
    total = sum(counts.values())
    if total <= 0 or not 1 <= average <= 5 or min(counts.values()) < 0:
        return None
    return {
        "average": average,
        "count": total,
        "rows": [{"stars": stars, "count": count, "share": round(100 * count / total)} for stars, count in counts.items()],
    }


@register.filter
def series_number(book: Book) -> str:
    """A book's number in its series as readers write it: "1", "2.5", a box set's "1–3"; "" when unnumbered."""
    if book.series_position is None:
        return ""
    first = f"{book.series_position:g}"
    return f"{first}–{book.series_position_end:g}" if book.series_position_end is not None else first
