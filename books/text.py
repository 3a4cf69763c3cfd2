"""Text normalisation shared by the importers, search and the trainer (plain Python: the trainer has no Django)."""
import unicodedata

SORT_LETTERS = ("ØøÆæŒœŁłĐđÐðÞþß", "OoAaOoLlDdDdTts")
"""Latin letters NFKD does not decompose, and the letter each sorts as (PostgreSQL's translate() maps one letter to
one: ``books.models.sort_key``)."""

_UNDECOMPOSED = str.maketrans({**dict(zip(*SORT_LETTERS)), "æ": "ae", "œ": "oe", "þ": "th"})
"""The same letters as ``fold`` spells them, after casefold: "Æsop" is searched as "aesop", "Þór" as "thor"."""


def fold(text: str) -> str:
    """Lowercase, strip accents ("Dostoïevski" → "dostoievski", "Łukasz Ørsted" → "lukasz orsted", "Æsop" → "aesop")
    and fold runs of whitespace to one space. "ß" folds to "ss" (casefold runs first)."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    without_marks = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(without_marks.casefold().translate(_UNDECOMPOSED).split())


def book_search_text(title: str, author: str) -> str:
    """What search matches a book on (``Book.search_text``): its title and author, folded."""
    return fold(f"{title} {author}")


def normalise_link_name(name: str) -> str:
    """A link's identity: lowercased, runs of whitespace folded to one space ("Science  Fiction" → "science fiction").

    The importers name links by it, and the trainer matches its removal list with it."""
    return " ".join(name.split()).lower()
