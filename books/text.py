"""Text normalisation shared by importers and search."""
import unicodedata


def fold(text: str) -> str:
    """Lowercase, strip accents ("Dostoïevski" → "dostoievski") and fold runs of whitespace to one space."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    without_marks = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(without_marks.casefold().split())


def book_search_text(title: str, author: str) -> str:
    """What search matches a book on (``Book.search_text``): its title and author, folded."""
    return fold(f"{title} {author}")
