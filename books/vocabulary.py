"""One vocabulary for reader tags and wikilinks: where a goodbooks reader tag and a Wikipedia wikilink name the same
thing, the wikilink joins the tag, so a training run with ``join_tags_and_wikilinks`` gives both one link
(``recommender.selectors.training_data``) and the books of both sources meet there.

A tag and a wikilink already share a ``Link`` when their names are alike (lowercased, whitespace folded: tag
"fantasy", wikilink "Fantasy"); this module finds the ones whose spellings differ only as the two vocabularies
differ:

* **spelling**: their *terms* are equal (``vocabulary_term``: accents folded, every run of punctuation, hyphens and
  underscores a space, "&" read as "and"): tag "world-war-ii" is wikilink "World War II", "children-s-literature" is
  "Children's literature", "science-fiction" is "Science fiction";
* **plural**: the tag's term with its last word made singular by ``inflect`` is the wikilink's term: tag "vampires"
  is wikilink "vampire", "picture-books" is "Picture book". Only a tag is made singular: Wikipedia titles its
  articles in the singular (its naming convention), so a plural title names something else ("Amazons" is no
  "amazon" tag, "Franks" no "frank"). And only a wikilink written as a common noun takes a plural tag: lowercase
  but for its first letter, and a single word wholly lowercase, since Wikipedia capitalises proper names
  ("Rolling Stone", the magazine, is no "rolling-stones" tag; "Berkshire", the county, no "berkshires").

Within one term, the tag is the link whose reader tags cover the most books (a term's spelling first, then its
plural), and it takes every wikilink of the term that no reader tag uses (a link used by both sources is a meeting
point already). So a tag never joins another tag, nor a wikilink another source's wikilink: each source keeps its
own vocabulary, and a catalogue of one source alone is unchanged. No abbreviation table: "sci-fi" stays its own tag
(it is tag-to-tag: the wikilink "Science fiction" joins "science-fiction", the tag most readers use).

A pair is a reader tag when goodbooks gave it (its source, the book's where empty) or its link is of kind tag; a
wikilink when another source gave it and its link is of kind wikilink (categories join nothing).
Nothing here is a hand-made mapping: the catalogue's own link names decide.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cache

import inflect
from django.db import connection

from books.models import Book, Link
from books.text import fold

MIN_SINGULAR_LETTERS = 4
"""A last word is made singular only from this many letters: shorter ones are mostly acronyms ("CBS", "ABCs")."""
_NOT_WORD = re.compile(r"[\W_]+")


@dataclass(frozen=True)
class LinkJoin:
    """A wikilink that is a reader tag's: ``rule`` is "spelling" or "plural"; ``term`` is what they share."""

    wikilink_id: int
    tag_id: int
    rule: str
    term: str


def vocabulary_term(name: str) -> str:
    """What a link name says, spelling aside: folded, punctuation a space, "&" as "and" ("World War II" and
    "world-war-ii" are "world war ii"; "Children's literature" is "children s literature"); "" when nothing is left."""
    return " ".join(_NOT_WORD.sub(" ", fold(name).replace("&", " and ")).split())


def singular_term(term: str) -> str | None:
    """``term`` with its last word singular ("picture books" → "picture book"), or None when it is not a plural
    of ``MIN_SINGULAR_LETTERS`` letters or more."""
    head, _, last = term.rpartition(" ")
    if len(last) < MIN_SINGULAR_LETTERS or not last.isalpha():
        return None
    singular = _inflect().singular_noun(last)
    if not singular or singular == last:
        return None
    return f"{head} {singular}" if head else singular


def is_common_noun(display_name: str) -> bool:
    """Whether a wikilink is written as Wikipedia writes a common noun: lowercase but for its first letter
    ("Romance novel", "picture book"), and one word wholly lowercase ("demon"; "Berkshire" may be a name)."""
    rest = display_name[1:]
    return rest == rest.lower() and (" " in display_name.strip() or display_name == display_name.lower())


def link_joins() -> dict[int, LinkJoin]:
    """``{wikilink's link id: LinkJoin}`` for each wikilink of the catalogue that is a reader tag's, as the module
    says; each joined link is used by wikilinks alone, each tag's link by reader tags."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT link.id, link.name, link.display_name,"
            " count(DISTINCT pair.book_id) FILTER (WHERE coalesce(nullif(pair.source, ''), book.source) = %s"
            " OR link.kind = %s),"
            " count(DISTINCT pair.book_id) FILTER (WHERE coalesce(nullif(pair.source, ''), book.source) <> %s"
            " AND link.kind = %s)"
            " FROM books_link AS link JOIN books_booklink AS pair ON pair.link_id = link.id"
            " JOIN books_book AS book ON book.id = pair.book_id GROUP BY link.id ORDER BY link.id",
            [Book.Source.GOODBOOKS, Link.Kind.TAG, Book.Source.GOODBOOKS, Link.Kind.WIKILINK])
        links = cursor.fetchall()

    wikilinks_of: dict[str, list[int]] = defaultdict(list)  # term: links only wikilinks use
    common: set[str] = set()  # terms one of whose wikilinks is written as a common noun
    for link_id, name, display_name, tag_books, wikilink_books in links:
        term = vocabulary_term(name)
        if term and wikilink_books and not tag_books:
            wikilinks_of[term].append(link_id)
            if is_common_noun(display_name):
                common.add(term)
    best: dict[str, tuple[tuple[int, int, str], int, str]] = {}  # term: (rank, tag link id, rule)
    for link_id, name, _, tag_books, _ in links:
        if not tag_books:
            continue
        term = vocabulary_term(name)
        singular = singular_term(term) if term else None
        for rule, candidate, preference in (("spelling", term, 1), ("plural", singular if singular in common else
                                                                                None, 0)):
            if candidate and candidate in wikilinks_of:
                rank = (preference, tag_books, name)
                if candidate not in best or rank > best[candidate][0]:
                    best[candidate] = (rank, link_id, rule)
                break
    joins: dict[int, LinkJoin] = {}
    for term, (_, tag_id, rule) in best.items():
        for wikilink_id in wikilinks_of[term]:
            joins[wikilink_id] = LinkJoin(wikilink_id, tag_id, rule, term)
    return joins


@cache
def _inflect() -> inflect.engine:
    return inflect.engine()
