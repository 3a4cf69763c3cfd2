"""What ``books.selectors.book_search`` looks for: each query word's spellings, and the one whole query searched instead
when the query as typed finds nothing ("hary poter" → "harry potter").

The catalogue's vocabulary lives in PostgreSQL, not in the web process: ``books_searchword`` (each word of the books'
``search_text`` and how many books use it) and ``books_searchtrigram`` (its letter trigrams), kept in step with the
books by triggers (migration ``0014_search``). A lookup reads the few rows it needs through their indexes.

A correction is a whole query, never a word on its own: every typed word is kept or replaced by a catalogue word at most
``max_edits`` edits away (optimal string alignment: a letter added, dropped, changed or two swapped), the corrected
query must find books as a whole (all its words in one book's title or author), and of the corrections that do, the
fewest edits win, then the one whose best book has the words in the order typed, then the better-ranked best book (a
short title that is the query, popular). A word is only corrected to one starting with the same letter; one that
changes the first letter is only offered ("did you mean …"), never searched in its place. So "mistborn" (no
catalogue word within one edit of it starts with "m") is corrected to nothing, not to "firstborn".
"""
import heapq
import re
from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import F, QuerySet, Value
from django.db.models.functions import Ln
from rapidfuzz.distance import OSA
from rapidfuzz.fuzz import ratio

from books.models import Book
from books.text import fold

SEARCH_CONFIG = "simple"
MIN_LENGTH = 4
"""Shorter words are never corrected ("usa" is no typo of "us")."""
CANDIDATES_PER_WORD = 3
MAX_CORRECTIONS_TRIED = 12
MAX_WORDS_CORRECTED = 8
NAME_RATIO = 85
"""How alike (rapidfuzz ratio, 0–100) two spellings of a name's word are at least ("dostoevsky"/"dostoyevsky")."""
NAME_LENGTH = 6
CHECKED_RATIO = 10
"""A query word in this many times the books of its rarest word is checked on the books found, not looked up."""


@dataclass(frozen=True)
class SearchPlan:
    """What ``query`` is searched as: ``words``, each a list of spellings any of which a book must have (a name's
    other spellings beside the word: "dostoevsky" also finds "dostoyevsky"); ``corrected``, the whole query searched
    instead of the one typed, if any; ``suggested``, a query that would find books, offered but not searched."""

    query: str = ""
    words: list[list[str]] = field(default_factory=list)
    corrected: str | None = None
    suggested: str | None = None


def book_search_plan(*, query: str | None) -> SearchPlan:
    """How ``query`` is searched: as typed when that finds books (or nothing better does), else the one correction
    that finds books (see the module's docstring), or a suggestion when only a less likely one would."""
    typed = query_words(query)
    if not typed:
        return SearchPlan(query or "")
    catalogue_words = _catalogue_words_starting(typed)
    as_typed = [_with_name_spellings(word, catalogue_words) for word in typed]
    if all(catalogue_words.get(word) for word in typed) and _books_matching(as_typed).exists():
        return SearchPlan(query, as_typed)
    corrections = _corrections(typed, catalogue_words)
    for offered_only in (False, True):
        best = _best_correction([(edits, words) for words, edits, offered in corrections if offered == offered_only])
        if best is not None:
            if offered_only:
                return SearchPlan(query, as_typed, suggested=" ".join(best))
            return SearchPlan(query, [_with_name_spellings(word, None) for word in best], corrected=" ".join(best))
    return SearchPlan(query, as_typed)


def query_words(query: str | None) -> list[str]:
    """The words of ``query`` search looks for: letters and digits, folded ("Dostoïevski" → "dostoievski")."""
    return re.findall(r"[^\W_]+", fold(query or ""))


def books_matching(books: QuerySet, words: list[list[str]]) -> QuerySet:
    """``books`` having, for each of ``words``, one of its spellings (as a word prefix, "dost" finds "dostoevsky")
    in the title or author, with ``rank``: the length-normalised match, doubled where the title itself matches
    (Austen's "Emma" before the books of authors named Emma), weighed by popularity on a log scale."""
    search_query = _search_query(words)
    # The same expression as the GIN index book_search_text, so the index serves the match.
    document = SearchVector("search_text", config=SEARCH_CONFIG)
    looked_up, checked = _looked_up_and_checked(words)
    books = books.alias(document=document).filter(document=_search_query(looked_up))
    if checked:
        # The same document joined to nothing, which the index does not serve: these words are checked on the books
        # the rarer ones found, not read from the index (a word in most books has a posting list as long as the
        # catalogue, read in full for a prefix match whatever the other words). A @@ (B) is the same books as A & B.
        books = books.alias(checked_document=document + SearchVector(Value(""), config=SEARCH_CONFIG)).filter(
            checked_document=_search_query(checked))
    return (
        books
        .annotate(rank=(SearchRank(document, search_query, normalization=2)
                        + SearchRank(SearchVector("title", config=SEARCH_CONFIG), search_query, normalization=2))
                  * Ln(F("popularity") + 3))
    )


def _search_query(words: list[list[str]]) -> SearchQuery:
    expression = " & ".join("(" + " | ".join(f"{spelling}:*" for spelling in spellings) + ")" for spellings in words)
    return SearchQuery(expression, search_type="raw", config=SEARCH_CONFIG)


def _looked_up_and_checked(words: list[list[str]]) -> tuple[list[list[str]], list[list[str]]]:
    """``words`` parted into those the index finds books by and those only checked on the books found: a word
    (all its spellings, as word prefixes) in at least ``CHECKED_RATIO`` times as many books as the rarest one's is
    checked. The books counted are ``books_searchword``'s, summed over the catalogue words each spelling starts."""
    if len(words) < 2:
        return words, []
    spellings = sorted({spelling for group in words for spelling in group})
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT typed, (SELECT coalesce(sum(books), 0) FROM books_searchword"
            "  WHERE word >= typed AND word < typed || chr(1114111)) FROM unnest(%s::text[]) AS typed",
            [spellings],
        )
        books = dict(cursor.fetchall())
    counts = [sum(books[spelling] for spelling in group) for group in words]
    threshold = CHECKED_RATIO * max(min(counts), 1)
    looked_up = [group for group, count in zip(words, counts) if count < threshold]
    checked = [group for group, count in zip(words, counts) if count >= threshold]
    return looked_up, checked


def _books_matching(words: list[list[str]]) -> QuerySet:
    return books_matching(Book.objects.all(), words)


def _catalogue_words_starting(words: list[str]) -> dict[str, str | None]:
    """Each word → the first catalogue word (in code point order) it starts, or None: "tols" → "tolstoy"."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT typed, (SELECT word FROM books_searchword WHERE word >= typed ORDER BY word LIMIT 1) "
            "FROM unnest(%s::text[]) AS typed",
            [sorted(set(words))],
        )
        return {typed: first if first is not None and first.startswith(typed) else None
                for typed, first in cursor.fetchall()}


def _corrections(typed: list[str], catalogue_words: dict[str, str | None]) -> list[tuple[list[str], int, bool]]:
    """Up to ``MAX_CORRECTIONS_TRIED`` whole-query corrections as (words, edits, whether it may only be offered: a
    first letter changed), those only to be offered last, then fewest edits first: every word kept as typed (when it starts a catalogue word) or replaced by one of
    its closest spellings. None for a query of more than ``MAX_WORDS_CORRECTED`` words."""
    if len(typed) > MAX_WORDS_CORRECTED:
        return []
    options = []
    for word in typed:
        kept = [(word, 0, False)] if catalogue_words.get(word) else []
        options.append(kept + _spellings_near(word)[:CANDIDATES_PER_WORD])
    if not all(options):
        return []

    def cost(choice):
        chosen = [options[i][j] for i, j in enumerate(choice)]
        return (any(offered for _, _, offered in chosen), sum(edits for _, edits, _ in chosen)), chosen

    # Best first over the choices (each word's options are fewest edits first), never the whole product.
    start = (0,) * len(options)
    queue, seen, corrections = [(cost(start)[0], start)], {start}, []
    while queue and len(corrections) < MAX_CORRECTIONS_TRIED:
        (offered, edits), choice = heapq.heappop(queue)
        if edits:
            corrections.append(([word for word, _, _ in cost(choice)[1]], edits, offered))
        for i in range(len(choice)):
            following = (*choice[:i], choice[i] + 1, *choice[i + 1:])
            if choice[i] + 1 < len(options[i]) and following not in seen:
                seen.add(following)
                heapq.heappush(queue, (cost(following)[0], following))
    return corrections


def _spellings_near(word: str) -> list[tuple[str, int, bool]]:
    """Catalogue words within ``max_edits`` of ``word`` (none for a word under ``MIN_LENGTH``), as (word, edits,
    whether the first letter differs): those with the same first letter first, then fewest edits, then the most
    used."""
    if len(word) < MIN_LENGTH:
        return []
    max_edits = 1 if len(word) < 9 else 2
    near = []
    for candidate, books in _words_sharing_trigrams(word, len(word) - max_edits, len(word) + max_edits,
                                                    min_shared=len(word) + 1 - 4 * max_edits):
        edits = OSA.distance(word, candidate, score_cutoff=max_edits)
        if 0 < edits <= max_edits and len(candidate) >= MIN_LENGTH:
            near.append((candidate[0] != word[0], edits, -books, candidate))
    near.sort()
    return [(candidate, edits, offered) for offered, edits, _, candidate in near]


def _words_sharing_trigrams(word: str, shortest: int, longest: int, *, min_shared: int, limit: int = 200):
    """(catalogue word, books using it) of ``shortest`` to ``longest`` letters sharing at least ``min_shared`` letter
    trigrams with ``word``, those sharing the most first; an index range scan per trigram."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT shared.word, counted.books FROM ("
            "  SELECT word, count(*) AS n FROM books_searchtrigram"
            "  WHERE trigram = ANY(%s::text[]) AND word_length BETWEEN %s AND %s"
            "  GROUP BY word HAVING count(*) >= %s ORDER BY n DESC, word LIMIT %s"
            ") AS shared JOIN books_searchword AS counted USING (word) ORDER BY shared.n DESC, shared.word",
            [sorted(_trigrams(word)), shortest, longest, max(min_shared, 1), limit],
        )
        return cursor.fetchall()


def _best_correction(corrections: list[tuple[int, list[str]]]) -> list[str] | None:
    """Of ``corrections`` ((edits, words), fewest edits first), those as few edits away as the first that finds books;
    of these, the one whose best book has the words in the order typed, then the best-ranked best book."""
    found = []
    for edits, words in corrections:
        if found and edits > found[0][0]:
            break
        best = list(_books_matching([[word] for word in words]).order_by("-rank").values_list("rank", "search_text")[:3])
        if best:
            found.append((edits, any(_in_order(words, search_text) for _, search_text in best), best[0][0], words))
    if not found:
        return None
    return max(found, key=lambda option: option[1:3])[3]


def _in_order(words: list[str], search_text: str) -> bool:
    """Whether ``search_text`` has ``words`` one after another, each as a word prefix."""
    text_words = re.findall(r"[^\W_]+", search_text)
    return any(all(text_words[start + i].startswith(word) for i, word in enumerate(words))
               for start in range(len(text_words) - len(words) + 1))


def _with_name_spellings(word: str, catalogue_words: dict[str, str | None] | None) -> list[str]:
    """``word`` and, where it is a word of an author's name, its other spellings in names otherwise the same
    ("fyodor dostoevsky" and "fyodor dostoyevsky"), at least ``NAME_RATIO`` alike (not "john"/"jane"), both of
    ``NAME_LENGTH`` letters or more and neither starting the other (Thomas More is not Thomas Moore, nor Martin
    Martini). ``catalogue_words`` (from ``_catalogue_words_starting``) spares a lookup for a word the catalogue
    lacks."""
    if len(word) < NAME_LENGTH or (catalogue_words is not None and not catalogue_words.get(word)):
        return [word]
    # Spellings of a name differ by a letter or two ("dostoevsky"/"dostoyevsky", "tolstoy"/"tolstoj").
    others = [other for other, _ in _words_sharing_trigrams(word, max(len(word) - 2, NAME_LENGTH), len(word) + 2,
                                                            min_shared=len(word) + 1 - 8, limit=60)
              if not other.startswith(word) and not word.startswith(other) and ratio(word, other) >= NAME_RATIO]
    if not others:
        return [word]
    return [word, *sorted(_name_spellings_among(word, others), key=lambda other: -ratio(word, other))]


def _name_spellings_among(word: str, others: list[str]) -> set[str]:
    """Those of ``others`` that take ``word``'s place in some author's name otherwise the same."""
    names = _books_matching([[word, *others]]).values_list("author", flat=True).distinct()
    in_place_of = defaultdict(set)  # ("fyodor", "*") -> {"dostoevsky", "dostoyevsky"}
    for name in {name.strip() for names in names for name in names.split(",")}:
        words = re.findall(r"[^\W_]+", fold(name))
        for i, name_word in enumerate(words):
            if len(words) >= 2 and (name_word == word or name_word in others):
                in_place_of[(*words[:i], "*", *words[i + 1:])].add(name_word)
    return {other for spellings in in_place_of.values() if word in spellings for other in spellings - {word}}


def _trigrams(word: str) -> set[str]:
    """``word``'s letter trigrams, padded as the migration pads the catalogue's words ("  word ")."""
    padded = f"  {word} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}
