"""Pairs read from the database for training."""
import numpy as np
import pytest

from books.models import Book, BookLink, Link
from recommender.selectors.training_data import training_data_build
from recommender.training.params import TrainingParams

pytestmark = pytest.mark.django_db


def test_only_an_articles_link_count_weighs_a_pair_not_a_tags_reader_count():
    # A goodbooks tag and a Wikipedia link of the same name share one Link; the tag's count is how many
    # readers gave it (tens of thousands), which squared would drown every other pair if read as a count.
    fantasy = Link.objects.create(name="fantasy", display_name="Fantasy", kind=Link.Kind.WIKILINK)
    article = Book.objects.create(external_id="wikipedia:The Hobbit", source="wikipedia", title="The Hobbit")
    tagged = Book.objects.create(external_id="goodbooks:7", source="goodbooks", title="The Hobbit")
    BookLink.objects.create(book=article, link=fantasy, count=3)
    BookLink.objects.create(book=tagged, link=fantasy, count=47478)

    data = training_data_build(params=TrainingParams(min_books_per_link=1))

    weight_of_book = {int(data.book_ids[b]): float(w) for b, w in zip(data.pairs.book_index, data.pairs.weight)}
    assert weight_of_book == {article.pk: 3.0, tagged.pk: 1.0}


def test_the_shelf_model_learns_from_want_to_read_shelves_and_others_at_their_weight(user):
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from books.models import Shelf, ShelfEntry

    books = Book.objects.bulk_create([Book(external_id=f"goodbooks:{i}", source="goodbooks", title=f"Book {i}")
                                      for i in range(6)])
    other = get_user_model().objects.create(username="other-reader")
    now = timezone.now()
    for reader, kind, shelved in ((user, "want-to-read", books[:3]), (user, "read", books[3:5]),
                                  (user, "favourites", books[2:4]), (other, "read", books[4:6])):
        shelf = Shelf.objects.create(user=reader, name=kind, kind=kind)
        ShelfEntry.objects.bulk_create([ShelfEntry(shelf=shelf, book=b, added_at=now) for b in shelved])

    data = training_data_build(params=TrainingParams(min_books_per_link=1, shelf_model_other_shelves_weight=0.2))

    def model_shelves(pairs):
        shelves = {}
        for book, shelf, weight in zip(pairs.book_index, pairs.link_index, pairs.weight):
            shelves.setdefault(int(shelf), (set(), float(weight)))[0].add(int(data.book_ids[book]))
        return sorted(((sorted(books), weight) for books, weight in shelves.values()), key=str)

    pk = [b.pk for b in books]
    # One shelf of the want-to-read kind, and each reader's books of other kinds (read, favourites) as one more.
    assert model_shelves(data.shelves) == sorted([(pk[:3], 1.0), (pk[2:5], pytest.approx(0.2)),
                                                  (pk[4:6], pytest.approx(0.2))], key=str)
    # The embeddings learn from every shelf, one reader each.
    reader_books = {int(data.book_ids[b]) for b, r in zip(data.pairs.book_index, data.pairs.link_index)
                    if r >= data.n_content_links}
    assert reader_books == set(pk) and data.n_readers == 2

    without = training_data_build(params=TrainingParams(min_books_per_link=1, shelf_model_other_shelves_weight=0))
    assert model_shelves(without.shelves) == [(pk[:3], 1.0)]


def _book(external_id: str, title: str, *, links: dict[str, int] = None, people=(), genres=()) -> Book:
    """A book of ``external_id``'s source with its links (name: count), people (``Author``s, as authors) and genres."""
    from books.models import Contribution, Genre

    book = Book.objects.create(external_id=external_id, source=external_id.split(":")[0], title=title)
    for name, count in (links or {}).items():
        link, _ = Link.objects.get_or_create(name=name.lower(), defaults={"display_name": name,
                                                                          "kind": Link.Kind.WIKILINK})
        BookLink.objects.create(book=book, link=link, count=count)
    for position, person in enumerate(people):
        Contribution.objects.create(book=book, author=person, role=Contribution.Role.AUTHOR, position=position)
    for name in genres:
        Genre.objects.get_or_create(name=name)[0].books.add(book)
    return book


def _person(name: str, *aliases: str):
    from books.importers.authors import author_key
    from books.models import Author

    return Author.objects.create(name=name, key=author_key(name), aliases=list(aliases))


def _links_of(data, book: Book) -> dict[int, float]:
    """The book's (link index: weight) in what the embeddings train on."""
    index = int(np.searchsorted(data.book_ids, book.pk))
    return {int(link): float(weight) for b, link, weight in zip(data.pairs.book_index, data.pairs.link_index,
                                                                data.pairs.weight) if b == index}


def test_an_author_is_one_link_across_sources_the_same_as_a_wikilink_to_any_of_their_spellings():
    tolkien = _person("J. R. R. Tolkien", "J.R.R. Tolkien")
    history = _book("wikipedia:The History of The Hobbit", "The History of The Hobbit",
                    links={"J. R. R. Tolkien": 4, "Middle-earth": 2}, people=[_person("John D. Rateliff")])
    silmarillion = _book("wikipedia:The Silmarillion", "The Silmarillion",
                         links={"J. R. R. Tolkien": 1, "Middle-earth": 5}, people=[tolkien])
    hobbit = _book("goodbooks:7", "The Hobbit", links={"classics": 1}, people=[tolkien])
    _book("goodbooks:8", "Dracula", links={"classics": 1}, people=[_person("Bram Stoker")])

    data = training_data_build(params=TrainingParams())

    tolkien_link = int(np.flatnonzero(data.link_ids == Link.objects.get(name="j. r. r. tolkien").pk)[0])
    # The goodbooks Hobbit meets the articles that link Tolkien's page, through the person its record names.
    assert tolkien_link in _links_of(data, hobbit)
    # The Silmarillion's own wikilink to its author and its author are one pair, at the article's count.
    assert _links_of(data, silmarillion)[tolkien_link] == 1.0
    assert _links_of(data, history)[tolkien_link] == 4.0
    # Tolkien needs no link of his own; the authors of one book each teach nothing and are dropped.
    assert data.pairs.n_links == data.n_content_links
    # The shelf model's side information stays the sources' own links.
    assert tolkien_link not in {int(link) for b, link in zip(data.content.book_index, data.content.link_index)
                                if data.book_ids[b] == hobbit.pk}


def test_authors_and_genres_without_a_link_of_their_name_get_one_of_their_own_and_bring_books_in():
    le_guin = _person("Ursula K. Le Guin")
    earthsea = _book("wikipedia:A Wizard of Earthsea", "A Wizard of Earthsea", links={"Earthsea": 3},
                     people=[le_guin], genres=["Fantasy"])
    _book("wikipedia:The Tombs of Atuan", "The Tombs of Atuan", links={"Earthsea": 2}, genres=["Fantasy"])
    # goodbooks books with no tag left and no reader: before, no vector at all.
    dispossessed = _book("goodbooks:900", "The Dispossessed", people=[le_guin], genres=["Science fiction"])
    lathe = _book("goodbooks:901", "The Lathe of Heaven", people=[le_guin])
    _book("goodbooks:902", "A Book of Its Own", people=[_person("Nobody Else")], genres=["Travel"])

    data = training_data_build(params=TrainingParams())

    assert set(data.book_ids.tolist()) >= {earthsea.pk, dispossessed.pk, lathe.pk}
    assert data.books_without_pairs == 1  # its author and genre are its alone
    own = {link for link in _links_of(data, earthsea) if link >= data.n_content_links}
    assert len(own) == 2  # Le Guin and Fantasy, each a link of its own after the content links
    (le_guin_link,) = _links_of(data, lathe)  # Science fiction is The Dispossessed's alone, so dropped
    assert le_guin_link in own and set(_links_of(data, dispossessed)) == {le_guin_link}
    assert data.pairs.n_links == data.n_content_links + 2
    assert len(data.catalogue) == 5  # Le Guin's three books, Fantasy's two


def test_a_genre_is_the_tag_or_wikilink_of_its_name_and_a_zero_weight_leaves_the_catalogue_out():
    dune = _book("wikipedia:Dune (novel)", "Dune", links={"Science fiction": 2}, genres=["Science fiction"])
    foundation = _book("goodbooks:5", "Foundation", links={"classics": 1}, genres=["Science fiction"])
    _book("goodbooks:6", "Emma", links={"classics": 1}, genres=["Romance"])

    data = training_data_build(params=TrainingParams(min_books_per_link=1))
    science_fiction = int(np.flatnonzero(data.link_ids == Link.objects.get(name="science fiction").pk)[0])

    assert science_fiction in _links_of(data, foundation) and science_fiction in _links_of(data, dune)
    assert _links_of(data, dune)[science_fiction] == 2.0  # the article's count, one pair

    without = training_data_build(params=TrainingParams(min_books_per_link=1, catalogue_link_weight=0))
    assert len(without.catalogue) == 0 and science_fiction not in _links_of(without, foundation)
    assert without.pairs.n_links == without.n_content_links


def test_a_book_a_wikilink_names_has_that_link_so_the_linking_book_and_it_share_one():
    from books.models import BookIdentifier

    tolkien = _person("J.R.R. Tolkien", "J. R. R. Tolkien")
    history = _book("wikipedia:The History of The Hobbit", "The History of The Hobbit",
                    links={"The Hobbit": 3, "J. R. R. Tolkien": 1}, people=[_person("John D. Rateliff")])
    hobbit = _book("goodbooks:7", "The Hobbit", links={"classics": 1}, people=[tolkien])
    nineteen = _book("wikipedia:Nineteen Eighty-Four", "Nineteen Eighty-Four", links={"Nineteen Eighty-Four": 1})
    BookIdentifier.objects.create(book=nineteen, scheme="wikipedia", value="Nineteen Eighty-Four")
    _book("goodbooks:8", "Dracula", links={"classics": 1})

    data = training_data_build(params=TrainingParams())

    # Only the article links "The Hobbit": the book it names is the link's second book, so the link is kept.
    the_hobbit = int(np.flatnonzero(data.link_ids == Link.objects.get(name="the hobbit").pk)[0])
    assert the_hobbit in _links_of(data, history) and the_hobbit in _links_of(data, hobbit)
    assert _links_of(data, history)[the_hobbit] == 3.0  # the article's own pair, at its count
    # A catalogue pair (weighed with the authors and genres), not a source's: the shelf model's links stay the same.
    assert the_hobbit not in {int(link) for b, link in zip(data.content.book_index, data.content.link_index)
                              if data.book_ids[b] == hobbit.pk}
    # An article linking only its own page: no pair, no link (one book).
    assert not (data.link_ids == Link.objects.get(name="nineteen eighty-four").pk).any()
    assert data.named_book_pairs == 1

    without = training_data_build(params=TrainingParams(catalogue_link_weight=0))
    # Without catalogue pairs the link is the article's alone, and dropped.
    assert without.named_book_pairs == 0
    assert not (without.link_ids == Link.objects.get(name="the hobbit").pk).any()


def test_a_wikilink_that_names_what_a_reader_tag_names_is_the_tags_link_when_switched_on_unless_removed():
    def tagged(external_id: str, *tags: str) -> Book:
        book = Book.objects.create(external_id=external_id, source="goodbooks", title=external_id)
        for name in tags:
            link, _ = Link.objects.get_or_create(name=name, defaults={"display_name": name, "kind": Link.Kind.TAG})
            BookLink.objects.create(book=book, link=link)
        return book

    history = _book("wikipedia:The Second World War", "The Second World War", links={"World War II": 3})
    catch = tagged("goodbooks:1", "world-war-ii", "classics")
    _book("wikipedia:Dracula", "Dracula", links={"vampire": 1, "Gothic fiction": 1})
    twilight = tagged("goodbooks:2", "vampires", "classics")

    data = training_data_build(params=TrainingParams(join_tags_and_wikilinks=True))

    # The joined link is stored under its first link, the wikilink here (imported first).
    joined = int(np.flatnonzero(data.link_ids == Link.objects.get(name="world war ii").pk)[0])
    # One link for the article's wikilink (at its count) and the tag (at 1): two books, so it is kept.
    assert _links_of(data, history)[joined] == 3.0 and _links_of(data, catch)[joined] == 1.0
    vampire = set(_links_of(data, twilight)) - set(_links_of(data, catch))
    assert len(vampire) == 1 and vampire <= set(_links_of(data, Book.objects.get(title="Dracula")))
    # The shelf model's side information has the joined link too: it is a content link.
    assert joined in {int(link) for b, link in zip(data.content.book_index, data.content.link_index)
                      if data.book_ids[b] == history.pk}

    # Off (the default), each is one book's link and dropped.
    apart = training_data_build(params=TrainingParams())
    assert set(_links_of(apart, catch)) == set(_links_of(apart, twilight))  # "classics" alone
    # A removed tag takes no wikilink with it: the wikilink stays its own (one article: dropped), never removed
    # under the tag's name.
    _book("wikipedia:Band of Brothers", "Band of Brothers", links={"World War II": 1})
    removed = training_data_build(params=TrainingParams(join_tags_and_wikilinks=True, removed_links=("world-war-ii",)))
    own = int(np.flatnonzero(removed.link_ids == Link.objects.get(name="world war ii").pk)[0])
    assert own in _links_of(removed, history) and own not in _links_of(removed, catch)


def test_a_catalogue_of_reader_tags_alone_trains_on_the_same_pairs_with_the_vocabulary_join_or_without():
    # Tags spelt alike ("werewolves", "werewolf", "world_war_ii") never join one another: one source's vocabulary stays.
    for number, tags in enumerate([("werewolves", "world-war-ii"), ("werewolf", "world_war_ii"),
                                   ("werewolves", "werewolf", "world-war-ii", "world_war_ii")]):
        book = Book.objects.create(external_id=f"goodbooks:{number + 1}", source="goodbooks", title=str(number))
        for name in tags:
            link, _ = Link.objects.get_or_create(name=name, defaults={"display_name": name, "kind": Link.Kind.TAG})
            BookLink.objects.create(book=book, link=link)

    joined = training_data_build(params=TrainingParams(join_tags_and_wikilinks=True))
    apart = training_data_build(params=TrainingParams())

    assert joined.pairs.n_links == apart.pairs.n_links == 4
    for name in ("book_index", "link_index", "weight", "kind"):
        assert np.array_equal(getattr(joined.pairs, name), getattr(apart.pairs, name))
