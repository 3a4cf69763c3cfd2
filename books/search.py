"""The search engine behind ``books.selectors.book_search``: the catalogue's vocabulary of title and author words,
and each query word's spellings in it (a mistyped word's closest catalogue words, an author's name in its other
spellings)."""
import bisect
import difflib
import itertools
import re
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable

from django.db import connection
from django.db.models import Count, Max

from books.models import Book
from books.text import fold


def book_search_words(*, query) -> list[list[str]]:
    """What ``book_search`` looks for: each folded query word, or an unknown word's closest spellings."""
    words = re.findall(r"[^\W_]+", fold(query or ""))
    if not words:
        return []
    vocabulary = _search_vocabulary()
    return [vocabulary.spellings(word) for word in words]


def book_search_correction(*, query) -> str | None:
    """The query ``book_search`` actually ran ("anna karenina" for "anna karenia", a word's spellings joined
    by "/"), or None if it kept every word as typed (a name's other spellings looked for beside it, as
    "tolstoy" also finds "tolstoj", correct nothing)."""
    typed = re.findall(r"[^\W_]+", fold(query or ""))
    searched = book_search_words(query=query)
    if all(word in spellings for word, spellings in zip(typed, searched)):
        return None
    return " ".join("/".join(spellings) for spellings in searched)


class _Vocabulary:
    """The distinct words of every book's title and author, for correcting a mistyped query word.

    A word that starts some catalogue word, or is shorter than ``MIN_LENGTH`` ("usa" is no typo of "us"), is
    kept as typed (search matches prefixes). Another word is replaced by the catalogue words of at least
    ``MIN_LENGTH`` letters most like it (difflib's ratio, at least ``MIN_RATIO`` and within ``SPELLING_MARGIN``
    of the best, at most ``MAX_SPELLINGS``: a name spelt several ways in the catalogue is looked for in all of
    them), looked for among the words that share the most letter trigrams with it, so a lookup never scans
    every word. An author's name spelt correctly is looked for in its other spellings too ("dostoevsky" also
    finds "dostoyevsky", "tolstoj" "tolstoy"): words at least ``NAME_RATIO`` alike that the catalogue's authors
    use in names otherwise the same ("fyodor dostoevsky", "fyodor dostoyevsky"), so "orwell" is never
    "cornwell" nor "collins" "rollins".
    """

    MIN_RATIO = 0.75
    MIN_LENGTH = 4
    SPELLING_MARGIN = 0.05
    MAX_SPELLINGS = 3
    CANDIDATES = 60
    NAME_RATIO = 0.85
    NAME_LENGTH = 6

    def __init__(self, word_counts: dict[str, int], author_names: Iterable[str]):
        self.words = sorted(word_counts)
        self.counts = word_counts
        self.name_spellings = _name_spellings(author_names, self.NAME_RATIO, self.NAME_LENGTH)
        self.by_trigram = defaultdict(list)
        for word in self.words:
            for trigram in _trigrams(word):
                self.by_trigram[trigram].append(word)

    def spellings(self, word: str) -> list[str]:
        """``[word]`` if it starts a catalogue word or is like none; else its closest catalogue words, best first."""
        position = bisect.bisect_left(self.words, word)
        if len(word) < self.MIN_LENGTH:
            return [word]
        if position < len(self.words) and self.words[position].startswith(word):
            return [word, *self.name_spellings.get(word, [])[: self.MAX_SPELLINGS - 1]]
        scored = self._scored(word)
        if not scored:
            return [word]
        close = [candidate for ratio, _, candidate in scored
                 if ratio >= max(self.MIN_RATIO, scored[0][0] - self.SPELLING_MARGIN)]
        return close[: self.MAX_SPELLINGS] or [word]

    def _scored(self, word: str) -> list[tuple[float, int, str]]:
        """(likeness, books, catalogue word) of the words sharing the most trigrams with ``word``, most alike first."""
        shared = Counter()
        for trigram in _trigrams(word):
            shared.update(self.by_trigram.get(trigram, ()))
        return sorted(
            ((difflib.SequenceMatcher(None, word, candidate).ratio(), self.counts[candidate], candidate)
             for candidate, _ in shared.most_common(self.CANDIDATES) if len(candidate) >= self.MIN_LENGTH),
            reverse=True,
        )


def _name_spellings(author_names: Iterable[str], min_ratio: float, min_length: int) -> dict[str, list[str]]:
    """Each author-name word's other spellings, most alike first: a word that takes its place in a name otherwise
    the same ("fyodor dostoevsky" and "fyodor dostoyevsky"), at least ``min_ratio`` alike (not "john"/"jane"),
    both of ``min_length`` letters or more and neither starting the other (Thomas More is not Thomas Moore,
    nor Martin Martini)."""
    in_place_of = defaultdict(set)  # "fyodor *" -> {"dostoevsky", "dostoyevsky"}
    for name in author_names:
        words = re.findall(r"[^\W_]+", fold(name))
        if len(words) >= 2:
            for i, word in enumerate(words):
                in_place_of[(*words[:i], "*", *words[i + 1:])].add(word)
    spellings = defaultdict(set)
    for words in in_place_of.values():
        for word, other in itertools.permutations(words, 2):
            if (min(len(word), len(other)) >= min_length and not other.startswith(word) and not word.startswith(other)
                    and difflib.SequenceMatcher(None, word, other).ratio() >= min_ratio):
                spellings[word].add(other)
    return {word: sorted(others, key=lambda other: -difflib.SequenceMatcher(None, word, other).ratio())
            for word, others in spellings.items()}


def _trigrams(word: str) -> set[str]:
    padded = f"  {word} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


_vocabulary_lock = threading.Lock()
_vocabulary_cache: dict = {}


def _search_vocabulary() -> _Vocabulary:
    """The catalogue's vocabulary, rebuilt only when books were added, removed or changed."""
    signature = tuple(Book.objects.aggregate(count=Count("id"), last_id=Max("id"), changed=Max("updated_at")).values())
    with _vocabulary_lock:
        if _vocabulary_cache.get("signature") != signature:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT word, ndoc FROM ts_stat($$SELECT to_tsvector('simple', search_text) FROM books_book$$)"
                )
                word_counts = dict(cursor.fetchall())
            authors = {name.strip() for names in Book.objects.values_list("author", flat=True).distinct()
                       for name in names.split(",")}
            _vocabulary_cache["vocabulary"] = _Vocabulary(word_counts, authors)
            _vocabulary_cache["signature"] = signature
        return _vocabulary_cache["vocabulary"]
