"""What a training run learns from, read from PostgreSQL into the training core's ``PairSet``.

* Content pairs: a book and one of its links (``BookLink``), after the run's link hygiene: names
  normalised, with ``join_tags_and_wikilinks`` a wikilink that names what a reader tag names taking the tag's link
  (``books.vocabulary``: "World War II" is "world-war-ii", "vampire" is "vampires"), the removal list and patterns
  applied, links used by fewer than ``min_books_per_link`` books dropped.
* Catalogue pairs: a book and one of the catalogue's own entities, whatever source described the book: each of
  its authors (``Author``: one person under every spelling) and each of its genres of the vocabulary. An entity
  is the same link as a kept content link of its name (a wikilink "J. R. R. Tolkien" to the person whose
  goodbooks books say "J.R.R. Tolkien", a tag or wikilink "fantasy" to the genre Fantasy), else a link of its own
  numbered after the content links, kept like a link when ``min_books_per_link`` books have it. These are what
  the sources share besides the tags and wikilinks of one vocabulary. Only the embeddings learn from them; the
  shelf model's content links are the content pairs above.
* Named books: a book another book's wikilink names (``books.link_targets``: "The Hobbit" in an article about
  its history is goodbooks' *The Hobbit*) has that link as its own, a catalogue pair like an author's, so the
  linking book and the book it names share a link whatever sources describe them. The book counts among the
  link's books when ``min_books_per_link`` decides whether the link is kept.
* Shelf pairs: a book and a reader whose shelves hold it, the reader being one more "link" entity
  numbered after the content links (``PairSet.combine``); ``shelf_weight`` sets how much they count.
  Readers with a single shelved book teach nothing and are left out.
* Shelf-model shelves: what ``recommender.training.shelf_model`` learns from. Each training reader's books
  on shelves of ``shelf_model_shelf_kinds`` (want to read, by default) make one shelf, and their books on
  shelves of other kinds another, which counts ``shelf_model_other_shelves_weight`` as much.
* Validation readers: a seeded sample of readers is carved out of the shelves and never trained on;
  each one's shelf is split into a visible 80 % and a hidden 20 % for Recall@20 / NDCG@20.
"""
from __future__ import annotations

import numpy as np
from django.db import connection, transaction

from books.importers.authors import author_key
from books.link_targets import link_targets
from books.models import Book, Contribution
from books.vocabulary import link_joins
from recommender.training.data import TrainingData
from recommender.training.dataset import (
    CATALOGUE,
    PairSet,
    links_to_keep,
    normalise_link_name,
    removed_link_matcher,
)
from recommender.training.evaluation import ShelfCase, split_shelves
from recommender.training.params import TrainingParams

MAX_VALIDATION_READERS = 1000
"""At most this many readers are held out for the shelf metrics (10 % of eligible readers below that)."""
MIN_READERS_FOR_VALIDATION = 10
"""With fewer readers than this holding 2+ books, no reader is held out (shelf metrics are skipped)."""


class NoTrainingData(ValueError):
    """The database holds nothing to train on (no book with a usable link or shelf)."""


def training_data_build(*, params: TrainingParams) -> TrainingData:
    """Reads every usable pair from the database, as ``params`` say; raises NoTrainingData when none is left.

    Links, pairs, shelves and labels are read in one snapshot (a repeatable-read transaction), so an import that
    commits meanwhile is either wholly in or wholly out, never a pair whose link the run did not read.
    """
    in_caller_transaction = connection.in_atomic_block
    with transaction.atomic():
        if not in_caller_transaction:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        return _training_data(params)


def _training_data(params: TrainingParams) -> TrainingData:
    named = {link_id: target.book_id for link_id, target in link_targets().items()} if (
        params.catalogue_link_weight > 0) else {}
    link_ids, content_books, content_links, content_counts, dense_of_name, named_books, named_links = (
        _content_pairs(params, named))
    catalogue_books, catalogue_links, n_catalogue_links = _catalogue_pairs(params, dense_of_name, len(link_ids))
    catalogue_books = np.concatenate([catalogue_books, named_books])
    catalogue_links = np.concatenate([catalogue_links, named_links])
    shelf_users, shelf_books, of_model_kind, of_other_kind = _shelf_rows(params.shelf_model_shelf_kinds)

    train_mask, cases_by_id = _carve_validation_readers(shelf_users, shelf_books, seed=params.seed)
    train_users, train_books = shelf_users[train_mask], shelf_books[train_mask]
    embedding_rows = _of_readers_with_two_books(train_users) & (params.shelf_weight > 0)
    model_users, model_books, model_weights = [], [], []
    for group, (rows, weight) in enumerate([(of_model_kind[train_mask], 1.0),
                                            (of_other_kind[train_mask], params.shelf_model_other_shelves_weight)]):
        rows = rows & params.shelf_model & (weight > 0)
        rows[rows] = _of_readers_with_two_books(train_users[rows])
        model_users.append(train_users[rows] * 2 + group)  # one shelf per reader and group of kinds
        model_books.append(train_books[rows])
        model_weights.append(np.full(int(rows.sum()), weight))
    model_users, model_books, model_weights = map(np.concatenate, (model_users, model_books, model_weights))
    train_users, train_books = train_users[embedding_rows], train_books[embedding_rows]

    book_ids = np.unique(np.concatenate([content_books, catalogue_books]
                                        + ([train_books] if params.shelf_weight > 0 else [])))
    if len(book_ids) < 2:
        raise NoTrainingData("nothing to train on: import books with links (or readers' shelves) first")
    n_books = len(book_ids)
    content = PairSet.build(np.searchsorted(book_ids, content_books), content_links,
                            n_books=n_books, n_links=len(link_ids), weight=content_counts)
    n_links = len(link_ids) + n_catalogue_links
    catalogue = PairSet.build(np.searchsorted(book_ids, catalogue_books), catalogue_links, n_books=n_books,
                              n_links=n_links, kind=CATALOGUE)
    # A catalogue pair that is also a content pair (an article linking its own author's page, or its own title)
    # stays the content pair.
    catalogue = catalogue.subset(~np.isin(catalogue.book_index.astype(np.int64) * n_links + catalogue.link_index,
                                          content.book_index.astype(np.int64) * n_links + content.link_index))
    is_named = np.isin(catalogue.book_index.astype(np.int64) * n_links + catalogue.link_index,
                       np.searchsorted(book_ids, named_books).astype(np.int64) * n_links + named_links)
    linked = PairSet.build(np.concatenate([content.book_index, catalogue.book_index]),
                           np.concatenate([content.link_index, catalogue.link_index]), n_books=n_books,
                           n_links=n_links, weight=np.concatenate([content.weight, catalogue.weight]),
                           kind=np.concatenate([content.kind, catalogue.kind]))
    readers, reader_index = np.unique(train_users, return_inverse=True)
    reader_pairs = PairSet.build(np.searchsorted(book_ids, train_books), reader_index,
                                 n_books=n_books, n_links=len(readers))
    pairs = PairSet.combine(linked, reader_pairs) if len(reader_pairs) else linked
    known = np.isin(model_books, book_ids)
    _, model_shelf_index = np.unique(model_users[known], return_inverse=True)
    shelves = PairSet.build(np.searchsorted(book_ids, model_books[known]), model_shelf_index,
                            n_books=n_books, n_links=int(model_shelf_index.max()) + 1 if known.any() else 0,
                            weight=model_weights[known])

    popular = shelf_books[train_mask]
    popular = popular[np.isin(popular, book_ids)]
    authors, genres, countries, sources = _book_labels(book_ids)
    return TrainingData(
        pairs=pairs,
        content=content,
        catalogue=catalogue,
        named_book_pairs=int(is_named.sum()),
        books_without_pairs=_books_without_pairs(book_ids),
        shelves=shelves,
        book_ids=book_ids,
        link_ids=link_ids,
        n_readers=len(readers),
        shelf_cases=_cases_in_index(cases_by_id, book_ids),
        shelf_popularity=np.bincount(np.searchsorted(book_ids, popular), minlength=n_books).astype(np.float64),
        authors=authors,
        genres=genres,
        countries=countries,
        sources=sources,
    )


def _content_pairs(params: TrainingParams, named: dict[int, int]) -> tuple[
        np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, int], np.ndarray, np.ndarray]:
    """(kept link ids, book id of each pair, dense link index of each pair, count of each pair, dense link index
    of each kept normalised name, and the named books and their link's dense index: ``named`` is {link id: the
    book it names}, each counting as one more book of its link unless it links it itself).

    The count is how many times a Wikipedia article links the page (the trainer weights pairs by it,
    ``link_count_power``); a goodbooks book's count (how many readers gave the tag) is another quantity and
    reads as 1 — squared, it would drown every other pair.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT l.id, l.name, count(DISTINCT bl.book_id) FROM books_link l"
            " JOIN books_booklink bl ON bl.link_id = l.id GROUP BY l.id ORDER BY l.id"
        )
        links = cursor.fetchall()
        # By the pair's source (the book's when empty), not the link's kind: a tag and a wikilink of the same name
        # share one Link, and a book merged from both sources has pairs of each.
        cursor.execute(
            "SELECT bl.book_id, bl.link_id, CASE WHEN coalesce(nullif(bl.source, ''), b.source) = %s"
            " THEN bl.count ELSE 1 END"
            " FROM books_booklink bl JOIN books_book b ON b.id = bl.book_id",
            [Book.Source.WIKIPEDIA],
        )
        rows = np.array(cursor.fetchall(), dtype=np.int64).reshape(-1, 3)
    empty = np.zeros(0, np.int64)
    if not links:
        return empty, empty, empty, empty, {}, empty, empty
    all_ids = np.array([link_id for link_id, _, _ in links], dtype=np.int64)
    own_names = [normalise_link_name(name) for _, name, _ in links]
    names = _joined_names(all_ids, own_names, params)
    books_per_link = np.array([count for _, _, count in links], dtype=np.int64)
    named_link_ids = np.array(sorted(named), dtype=np.int64)
    named_book_ids = np.array([named[link_id] for link_id in named_link_ids.tolist()], dtype=np.int64)
    linking = rows[np.isin(rows[:, 1], named_link_ids)]
    own_link = {(int(book), int(link)) for book, link in zip(linking[:, 0], linking[:, 1])}
    adds_a_book = np.array([(book, link) not in own_link for book, link in
                            zip(named_book_ids.tolist(), named_link_ids.tolist())], dtype=bool)
    np.add.at(books_per_link, np.searchsorted(all_ids, named_link_ids[adds_a_book]), 1)
    # Links whose names normalise alike count together (their books are pooled).
    unique_names, name_index = np.unique(np.asarray(names, dtype=object), return_inverse=True)
    books_per_name = np.bincount(name_index, weights=books_per_link).astype(np.int64)
    keep_name = links_to_keep(list(unique_names), books_per_name, params)
    kept = keep_name[name_index]
    kept_ids = all_ids[kept]
    link_index_of_name = np.cumsum(keep_name) - 1
    # One dense index per kept name; the link id stored for it is the first link of that name.
    dense_of_link = np.full(len(all_ids), -1, np.int64)
    dense_of_link[kept] = link_index_of_name[name_index[kept]]
    first_of_dense = np.full(int(keep_name.sum()), -1, np.int64)
    for link_id, dense in zip(kept_ids[::-1], dense_of_link[kept][::-1]):
        first_of_dense[dense] = link_id
    pair_dense = dense_of_link[np.searchsorted(all_ids, rows[:, 1])]
    usable = pair_dense >= 0
    dense_of_name = {str(name): int(dense) for name, dense in zip(unique_names[keep_name],
                                                                  link_index_of_name[keep_name])}
    # A wikilink joined to a reader tag is still its own name's link for the authors and genres of that name.
    for own, name in zip(own_names, names):
        if own != name and name in dense_of_name:
            dense_of_name.setdefault(own, dense_of_name[name])
    named_dense = dense_of_link[np.searchsorted(all_ids, named_link_ids)]
    named_kept = named_dense >= 0
    return (first_of_dense, rows[usable, 0], pair_dense[usable], rows[usable, 2], dense_of_name,
            named_book_ids[named_kept], named_dense[named_kept])


def _joined_names(link_ids: np.ndarray, names: list[str], params: TrainingParams) -> list[str]:
    """Each link's name as the run counts it: a wikilink that is a reader tag's (``books.vocabulary``) takes the
    tag's name, so their books pool into one link; not where either name is on the run's removal list (a wikilink
    is never dropped with a removed tag's name)."""
    if not params.join_tags_and_wikilinks:
        return names
    is_removed = removed_link_matcher(params)
    name_of = dict(zip(link_ids.tolist(), names))
    joined = list(names)
    joins = link_joins()
    for index, link_id in enumerate(link_ids.tolist()):
        join = joins.get(link_id)
        if join is None or join.tag_id not in name_of:
            continue
        tag_name = name_of[join.tag_id]
        if not (is_removed(tag_name) or is_removed(names[index])):
            joined[index] = tag_name
    return joined


def _catalogue_pairs(params: TrainingParams, dense_of_name: dict[str, int],
                     n_content_links: int) -> tuple[np.ndarray, np.ndarray, int]:
    """(book id of each pair, dense link index of each pair, how many links of their own the entities take).

    An author is the content link one of whose names is a spelling of the person (the same ``author_key``: "J. R.
    R. Tolkien" and "J.R.R. Tolkien"); a one-word key ("Homer") is not matched, since a page of that name is as
    likely something else. A genre is the content link of its name. Any other entity gets an index of its own
    after ``n_content_links``, when at least ``min_books_per_link`` books have it and its name is not removed.
    """
    empty = np.zeros(0, np.int64)
    if params.catalogue_link_weight <= 0:
        return empty, empty, 0
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT person.book_id, person.author_id, author.name, author.key, author.aliases"
            " FROM books_contribution AS person JOIN books_author AS author ON author.id = person.author_id"
            " WHERE person.role = %s ORDER BY 1, 2", [Contribution.Role.AUTHOR])
        authored = cursor.fetchall()
        cursor.execute("SELECT genre_of.book_id, genre.id, genre.name FROM books_genre_books AS genre_of"
                       " JOIN books_genre AS genre ON genre.id = genre_of.genre_id ORDER BY 1, 2")
        genred = cursor.fetchall()
    link_of_key: dict[str, int] = {}
    for name, dense in sorted(dense_of_name.items()):
        key = author_key(name)
        if " " in key:
            link_of_key.setdefault(key, dense)

    entity_of: dict[tuple[str, int], int | str] = {}  # a dense index, or the entity's own name
    for _, author_id, name, key, aliases in authored:
        if ("author", author_id) not in entity_of:
            keys = [key, *(author_key(alias) for alias in aliases)]
            entity_of["author", author_id] = next((link_of_key[k] for k in keys if k in link_of_key),
                                                  normalise_link_name(name))
    for _, genre_id, name in genred:
        entity_of.setdefault(("genre", genre_id), dense_of_name.get(normalise_link_name(name), normalise_link_name(name)))

    books = np.array([row[0] for row in authored] + [row[0] for row in genred], dtype=np.int64)
    entities = [("author", row[1]) for row in authored] + [("genre", row[1]) for row in genred]
    if not entities:
        return empty, empty, 0
    # Entities of their own: one index each, kept like a link (enough books, name not removed).
    own = sorted({entity for entity in entities if isinstance(entity_of[entity], str)})
    books_of: dict[tuple[str, int], set[int]] = {entity: set() for entity in own}
    for book_id, entity in zip(books.tolist(), entities):
        if entity in books_of:
            books_of[entity].add(book_id)
    keep = links_to_keep([entity_of[entity] for entity in own],
                         np.array([len(books_of[entity]) for entity in own], np.int64), params)
    own_index = {entity: n_content_links + i for i, entity in enumerate(e for e, kept in zip(own, keep) if kept)}
    dense = np.array([own_index.get(entity, -1) if isinstance(entity_of[entity], str) else entity_of[entity]
                      for entity in entities], dtype=np.int64)
    usable = dense >= 0
    return books[usable], dense[usable], len(own_index)


def _books_without_pairs(book_ids: np.ndarray) -> int:
    """How many books of the catalogue have nothing to learn from (no kept link, catalogue link or shelf)."""
    return Book.objects.count() - len(book_ids)


def _shelf_rows(model_kinds: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(user id, book id, on a shelf of ``model_kinds``, on a shelf of another kind) of every book on any
    shelf, each (user, book) once."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.user_id, e.book_id, bool_or(s.kind = ANY(%s)), bool_or(s.kind <> ALL(%s))"
            " FROM books_shelfentry e JOIN books_shelf s ON s.id = e.shelf_id GROUP BY 1, 2 ORDER BY 1, 2",
            [list(model_kinds), list(model_kinds)],
        )
        rows = cursor.fetchall()
    users = np.array([row[0] for row in rows], dtype=np.int64)
    books = np.array([row[1] for row in rows], dtype=np.int64)
    return users, books, np.array([row[2] for row in rows], dtype=bool), np.array([row[3] for row in rows], dtype=bool)


def _of_readers_with_two_books(users: np.ndarray) -> np.ndarray:
    """Which rows belong to a reader with 2+ rows (a reader with a single book teaches nothing)."""
    _, reader_of_row, size = np.unique(users, return_inverse=True, return_counts=True)
    return size[reader_of_row] >= 2


def _carve_validation_readers(users: np.ndarray, books: np.ndarray, *, seed: int):
    """(training row mask, validation cases in book ids) — no readers held out when there are too few."""
    readers, sizes = np.unique(users, return_counts=True)
    eligible = int((sizes >= 2).sum())
    if eligible < MIN_READERS_FOR_VALIDATION:
        return np.ones(len(users), bool), []
    n_validation = min(MAX_VALIDATION_READERS, max(1, eligible // 10))
    return split_shelves(users, books, n_validation_users=n_validation, seed=seed)


def _index_of(sorted_ids: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Position of each id in ``sorted_ids``, -1 where absent."""
    if len(sorted_ids) == 0:
        return np.full(len(ids), -1, np.int64)
    at = np.clip(np.searchsorted(sorted_ids, ids), 0, len(sorted_ids) - 1)
    return np.where(sorted_ids[at] == ids, at, -1)


def _cases_in_index(cases: list[ShelfCase], book_ids: np.ndarray) -> list[ShelfCase]:
    """Validation cases with book ids turned into book indices (books without pairs dropped)."""
    result = []
    for case in cases:
        visible = _index_of(book_ids, case.visible)
        hidden = _index_of(book_ids, case.hidden)
        visible, hidden = visible[visible >= 0], hidden[hidden >= 0]
        if len(visible) and len(hidden):
            result.append(ShelfCase(case.user_id, visible, hidden))
    return result


def _book_labels(book_ids: np.ndarray) -> tuple[list[str], list[str], list[str], list[str]]:
    with connection.cursor() as cursor:
        # The first author as a person (books.Author: every spelling one label), else as the book spells them.
        cursor.execute(
            "SELECT id, coalesce((SELECT 'author ' || person.author_id FROM books_contribution AS person"
            " WHERE person.book_id = book.id AND person.role = 'author' ORDER BY person.position LIMIT 1), author),"
            " genre, country, source FROM books_book AS book WHERE id = ANY(%s::bigint[])",
            [book_ids.tolist()])
        by_id = {row[0]: row[1:] for row in cursor.fetchall()}

    def first(value: str) -> str:
        return value.split(",")[0].strip().lower() if value else ""

    labels = [by_id.get(int(book_id), ("", "", "", "")) for book_id in book_ids]
    return ([first(a) for a, _, _, _ in labels], [first(g) for _, g, _, _ in labels],
            [first(c) for _, _, c, _ in labels], [source for _, _, _, source in labels])
