"""Which book of the catalogue a wikilink names: an article about *The History of The Hobbit* links "The Hobbit",
and the catalogue has *The Hobbit* (from goodbooks, say); the link is then that book's own name, and a training run
gives the book the link (``recommender.selectors.training_data``), so the article and the book share it.

A wikilink names a book when

1. the book carries the link's page as its ``wikipedia:`` identifier (the article is in the catalogue, or a record
   merged into it), or
2. the book has no Wikipedia page (else its page's title is its one name there: "Conan the Barbarian" is the
   character, not *Conan the Barbarian (1955 collection)*), the link's page title, less a disambiguator in
   brackets, is the whole title of exactly one book of the catalogue (case, accents and punctuation aside;
   articles kept: "The Nation" is not *Nation*; a goodbooks series suffix and its original title count; a subtitle
   does not: "Cleopatra" is not *Cleopatra: A Life*; a book's own title comes before another's original title: *The
   Hobbit* before *The Hobbit: Graphic Novel*, whose original title is "The Hobbit"), and
   - a disambiguator says a written work and at most its year and the book's author ("(novel)", "(1949 novel)",
     "(Tolkien novel)"; never "(film)", "(state)", "(TV series)"), and
   - the book's author is named: by the disambiguator, or by at least ``CORROBORATING_SHARE`` of the other books that
     link the page (one of their authors, or a wikilink of theirs to any spelling of the person).

The books linking a page are those whose pairs with it are wikilinks: a goodbooks pair is a reader tag, even where
the link of that name is a wikilink too. Titles alone are not enough: wikilinks mostly name places, people and ideas
("London", "Canada", "memoir"), and books are titled after them. A title two books share names neither ("The
Guardian": Sparks's and Henderson's).
Nothing here is a hand-made mapping: the catalogue's own identifiers, titles and authors decide.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from django.db import connection

from books.importers.authors import author_key
from books.importers.matching import author_surnames
from books.models import Book, Contribution, Link
from books.text import fold, normalise_link_name

CORROBORATING_SHARE = 0.5
"""The share of the other books linking a page that must name the titled book's author for a bare title ("The
Hobbit") to be taken for that book: "London" is linked by 23 articles, one of which names Edward Rutherfurd."""
WORK_WORDS = frozenset({"novel", "novels", "novella", "novelette", "book", "books", "story", "short", "stories",
                        "collection", "play", "poem", "anthology", "memoir"})
"""The words of a Wikipedia disambiguator that say the page is a written work: "(novel)", "(short story)"; not
"series": a series is not its first book."""
_DISAMBIGUATOR = re.compile(r"^(.*?)\s*\(([^()]*)\)\s*$")
_NOT_WORD = re.compile(r"[\W_]+")
_YEAR = re.compile(r"^\d{3,4}s?$")


@dataclass(frozen=True)
class LinkTarget:
    """The book a link names, and why: ``method`` is "identifier" or "title-author"."""

    link_id: int
    book_id: int
    method: str
    reason: str


def whole_title_key(title: str) -> str:
    """``title`` as a wikilink is compared with it: brackets at its end dropped (a series suffix, a disambiguator),
    folded, punctuation aside, articles kept: "The Hobbit (Middle-earth, #0)" is "the hobbit"."""
    text = title or ""
    while (match := _DISAMBIGUATOR.match(text)) and match.group(1).strip():
        text = match.group(1)
    return " ".join(_NOT_WORD.sub(" ", fold(text).replace("&", " and ")).split())


def link_targets() -> dict[int, LinkTarget]:
    """``{link id: LinkTarget}`` for each wikilink of the catalogue that names one of its books, as the module says.

    A book is never its own link's target through its own linking (an article linking its own page names nothing
    another book could share)."""
    with connection.cursor() as cursor:
        # A goodbooks pair is a reader tag, whatever the link's kind: the tag "cross" on James Patterson's Alex Cross
        # novels is no wikilink to his novel *Cross*.
        cursor.execute(
            "SELECT link.id, link.name, link.display_name, array_agg(DISTINCT pair.book_id ORDER BY pair.book_id)"
            " FROM books_link AS link JOIN books_booklink AS pair ON pair.link_id = link.id"
            " JOIN books_book AS book ON book.id = pair.book_id"
            " WHERE link.kind = %s AND coalesce(nullif(pair.source, ''), book.source) <> %s"
            " GROUP BY link.id ORDER BY link.id", [Link.Kind.WIKILINK, Book.Source.GOODBOOKS])
        wikilinks = cursor.fetchall()
        if not wikilinks:
            return {}
        cursor.execute("SELECT value, book_id FROM books_bookidentifier WHERE scheme = 'wikipedia'")
        by_page = defaultdict(set)
        for value, book_id in cursor.fetchall():
            by_page[normalise_link_name(value)].add(book_id)
        cursor.execute(
            "SELECT book.id, book.title, coalesce(book.metadata->>'original_title', ''),"
            " coalesce(book.metadata->'goodbooks'->>'original_title', ''), coalesce(book.metadata->'goodbooks'->>'title', '')"
            " FROM books_book AS book WHERE NOT EXISTS (SELECT 1 FROM books_bookidentifier AS page"
            " WHERE page.book_id = book.id AND page.scheme = 'wikipedia')")
        by_title, by_other_title = defaultdict(set), defaultdict(set)
        for book_id, title, *others in cursor.fetchall():
            by_title[whole_title_key(title)].add(book_id)
            for key in {whole_title_key(other) for other in others if other} - {whole_title_key(title)}:
                by_other_title[key].add(book_id)
        cursor.execute(
            "SELECT person.book_id, person.author_id, author.name, author.key, author.aliases"
            " FROM books_contribution AS person JOIN books_author AS author ON author.id = person.author_id"
            " WHERE person.role = %s", [Contribution.Role.AUTHOR])
        authors_of = defaultdict(set)
        person_keys: dict[int, set[str]] = {}
        person_surnames: dict[int, set[str]] = {}
        person_words: dict[int, set[str]] = {}
        for book_id, author_id, name, key, aliases in cursor.fetchall():
            authors_of[book_id].add(author_id)
            if author_id not in person_keys:
                spellings = [name, *aliases]
                person_keys[author_id] = {key, *(author_key(spelling) for spelling in spellings)}
                person_surnames[author_id] = {surname for spelling in spellings
                                              for surname in author_surnames(spelling)}
                person_words[author_id] = {word for spelling in spellings
                                           for word in _NOT_WORD.sub(" ", fold(spelling)).split()}

    candidates: dict[int, tuple[int, str | None]] = {}  # link id: (book id, disambiguator), titles only
    targets: dict[int, LinkTarget] = {}
    linkers_of: dict[int, list[int]] = {}
    for link_id, name, display_name, linking in wikilinks:
        linkers_of[link_id] = linking
        paged = by_page.get(name, set())
        if len(paged) == 1:
            (book_id,) = paged
            targets[link_id] = LinkTarget(link_id, book_id, "identifier", f"wikipedia:{display_name}")
            continue
        match = _DISAMBIGUATOR.match(display_name)
        title, disambiguator = (match.group(1), match.group(2)) if match and match.group(1).strip() else (
            display_name, None)
        key = whole_title_key(title)
        titled = (by_title.get(key) or by_other_title.get(key, set())) if key else set()
        if len(titled) == 1:
            candidates[link_id] = (next(iter(titled)), disambiguator)

    named_keys = _author_keys_named_by(
        {book_id for link_id in candidates for book_id in linkers_of[link_id]}, person_keys)
    for link_id, (book_id, disambiguator) in candidates.items():
        people = authors_of.get(book_id, set())
        if not people:
            continue  # no author to corroborate the title with
        surnames = set().union(*(person_surnames[person] for person in people))
        name_words = set().union(*(person_words[person] for person in people))
        if disambiguator is not None:
            words = set(_NOT_WORD.sub(" ", fold(disambiguator)).split())
            if not words & WORK_WORDS or any(not (word in WORK_WORDS or word in name_words or _YEAR.match(word))
                                             for word in words):
                continue  # a film, a place, a TV series… of that title
            if words & surnames:
                targets[link_id] = LinkTarget(link_id, book_id, "title-author",
                                              f"title and author's name in the page title {disambiguator!r}")
                continue
        keys = set().union(*(person_keys[person] for person in people))
        others = [linking for linking in linkers_of[link_id] if linking != book_id]
        naming = sum(bool(authors_of.get(linking, set()) & people or named_keys.get(linking, set()) & keys)
                     for linking in others)
        if others and naming >= CORROBORATING_SHARE * len(others):
            targets[link_id] = LinkTarget(link_id, book_id, "title-author",
                                          f"title, and {naming} of the {len(others)} books linking it name its author")
    return {link_id: target for link_id, target in targets.items()
            if any(linking != target.book_id for linking in linkers_of[link_id])}


def _author_keys_named_by(book_ids: set[int], person_keys: dict[int, set[str]]) -> dict[int, set[str]]:
    """``{book id: author keys of its wikilinks that spell a person of the catalogue}`` for ``book_ids``."""
    known = set().union(*person_keys.values()) if person_keys else set()
    named: dict[int, set[str]] = defaultdict(set)
    if not book_ids or not known:
        return named
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pair.book_id, link.name FROM books_booklink AS pair JOIN books_link AS link ON link.id = pair.link_id"
            " JOIN books_book AS book ON book.id = pair.book_id"
            " WHERE link.kind = %s AND pair.book_id = ANY(%s::bigint[])"
            " AND coalesce(nullif(pair.source, ''), book.source) <> %s",
            [Link.Kind.WIKILINK, sorted(book_ids), Book.Source.GOODBOOKS])
        for book_id, name in cursor.fetchall():
            key = author_key(name)
            if " " in key and key in known:  # a one-word key ("Homer") is as likely something else
                named[book_id].add(key)
    return named
