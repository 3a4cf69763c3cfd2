"""People of imported books: each name a source gives becomes one ``Author``, whatever its spelling, joined to the
book by a ``Contribution`` with its role.

Two spellings are one person when their folded names are the same (case, accents, full stops and the spacing of
initials aside: "J.K. Rowling" is "J. K. Rowling"), or when their forenames are the same and their surnames alike
(``books.importers.matching.same_author``: "Fyodor Dostoyevsky" and "Fyodor Dostoevsky", "Leo Tolstoj" and "Leo
Tolstoy", but not "Thomas More" and "Thomas Moore"); the later spelling becomes an alias of the person first
imported.
"""
from __future__ import annotations

import re
from collections import defaultdict

from books.importers.matching import same_author
from books.models import Author
from books.text import fold

_NOT_WORD = re.compile(r"[\W_]+")


def author_key(name: str) -> str:
    """What two spellings of one name share: "J.K. Rowling" and "j. k. rowling" are both "jk rowling"."""
    words: list[str] = []
    initials = False  # whether the last word is initials run together
    for word in _NOT_WORD.sub(" ", fold(name)).split():
        if len(word) == 1 and initials:
            words[-1] += word
        else:
            words.append(word)
            initials = len(word) == 1
    return " ".join(words)


class AuthorIndex:
    """The catalogue's authors by key and by forenames, for finding the person a name is."""

    def __init__(self, model=Author):
        self.model = model  # a migration passes its historical model
        self.by_key: dict[str, int] = {}
        self.by_forenames: dict[str, list[tuple[str, int]]] = defaultdict(list)
        for author_id, key, aliases in model.objects.values_list("id", "key", "aliases"):
            self._add(key, author_id)
            for alias in aliases:
                self.by_key.setdefault(author_key(alias), author_id)
        self.new_aliases: dict[int, set[str]] = defaultdict(set)

    def _add(self, key: str, author_id: int) -> None:
        self.by_key[key] = author_id
        forenames, _, surname = key.rpartition(" ")
        if forenames:
            self.by_forenames[forenames].append((surname, author_id))

    def author_id(self, name: str) -> int | None:
        """The person ``name`` is, or None; a new spelling of a known person is noted in ``new_aliases``."""
        key = author_key(name)
        if key in self.by_key:
            return self.by_key[key]
        forenames, _, surname = key.rpartition(" ")
        alike = {author_id for other, author_id in self.by_forenames.get(forenames, ())
                 if forenames and same_author([surname], [other])}
        if len(alike) != 1:
            return None
        author_id = alike.pop()
        self.by_key[key] = author_id
        self.new_aliases[author_id].add(name)
        return author_id

    def create(self, names: list[str]) -> None:
        """Make an ``Author`` of each of ``names`` that is nobody yet (a name alike to one made here is its alias), in
        one statement."""
        pending: list[str] = []
        for name in names:
            if self.author_id(name) is None:
                pending.append(name)
                self._add(author_key(name), -len(pending))  # a placeholder id until the row exists
        made = self.model.objects.bulk_create([self.model(name=name, key=author_key(name)) for name in pending])
        real = {-number: author.pk for number, author in enumerate(made, start=1)}
        self.by_key = {key: real.get(author_id, author_id) for key, author_id in self.by_key.items()}
        for forenames, entries in self.by_forenames.items():
            self.by_forenames[forenames] = [(surname, real.get(author_id, author_id)) for surname, author_id in entries]
        self.new_aliases = defaultdict(set, {real.get(author_id, author_id): aliases
                                             for author_id, aliases in self.new_aliases.items()})


def contributions_write(cursor, records, book_ids: dict[str, int]) -> None:
    """Join each record's book to its people (``BookRecord.people()``), making the authors the catalogue lacks and
    noting new spellings as aliases. Idempotent: a re-import adds nothing it added before."""
    index = AuthorIndex()
    index.create(list(dict.fromkeys(name for record in records for name, _role in record.people())))
    rows = {}
    for record in records:
        for position, (name, role) in enumerate(record.people()):
            rows.setdefault((book_ids[record.external_id], index.author_id(name), role), position)
    cursor.execute("CREATE TEMP TABLE import_contribution (book_id bigint, author_id bigint, role text, "
                   "position integer) ON COMMIT DROP")
    with cursor.cursor.copy("COPY import_contribution FROM STDIN") as copy:
        for (book_id, author_id, role), position in rows.items():
            copy.write_row((book_id, author_id, role, position))
    cursor.execute(
        "INSERT INTO books_contribution (book_id, author_id, role, position) "
        "SELECT book_id, author_id, role, position FROM import_contribution "
        "ON CONFLICT (book_id, author_id, role) DO NOTHING"
    )
    cursor.execute("DROP TABLE import_contribution")
    for author_id, names in index.new_aliases.items():
        cursor.execute(
            "UPDATE books_author SET aliases = array(SELECT DISTINCT unnest(aliases || %s::varchar[])) "
            "WHERE id = %s", [sorted(names), author_id])
