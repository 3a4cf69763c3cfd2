"""factory_boy factories for the suite's data: books, links and book–link pairs, readers, shelves and their
entries, training runs, and published embedding versions (real vectors through the product's publish service).

Each factory writes real rows; override any field by keyword: ``BookFactory(title="Dune", genre="Science
fiction")``, ``BookLinkFactory(book=dune, link=spice, count=3)``.
"""
import factory
import numpy as np
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone
from factory.django import DjangoModelFactory, Password

from books.models import Book, BookLink, Link, Shelf, ShelfEntry
from books.text import fold
from recommender.models import EmbeddingVersion, TrainingRun

PASSWORD = "a-long-passphrase"
"""Every reader's password, so a test can sign in as any of them."""


class BookFactory(DjangoModelFactory):
    """A book as an importer stores it: external id from source and title, search text folded."""

    class Meta:
        model = Book

    source = "wikipedia"
    title = factory.Sequence(lambda n: f"Book {n}")
    author = ""
    external_id = factory.LazyAttribute(lambda book: f"{book.source}:{book.title}")
    search_text = factory.LazyAttribute(lambda book: fold(f"{book.title} {book.author}"))


class LinkFactory(DjangoModelFactory):
    """A link (wikilink by default), its name normalised as the importers store it."""

    class Meta:
        model = Link

    display_name = factory.Sequence(lambda n: f"Topic {n}")
    name = factory.LazyAttribute(lambda link: " ".join(link.display_name.lower().split()))
    kind = Link.Kind.WIKILINK


class BookLinkFactory(DjangoModelFactory):
    """A (book, link) pair: the book's article or readers use the link ``count`` times."""

    class Meta:
        model = BookLink

    book = factory.SubFactory(BookFactory)
    link = factory.SubFactory(LinkFactory)
    count = 1


class ReaderFactory(DjangoModelFactory):
    """A reader's account, password ``PASSWORD``."""

    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"reader-{n}")
    password = Password(PASSWORD)


class ShelfFactory(DjangoModelFactory):
    """A reader's shelf (a custom one unless ``kind`` says otherwise)."""

    class Meta:
        model = Shelf

    user = factory.SubFactory(ReaderFactory)
    name = factory.Sequence(lambda n: f"Shelf {n}")
    kind = Shelf.Kind.CUSTOM


class ShelfEntryFactory(DjangoModelFactory):
    """A book on a shelf, added now."""

    class Meta:
        model = ShelfEntry

    shelf = factory.SubFactory(ShelfFactory)
    book = factory.SubFactory(BookFactory)
    added_at = factory.LazyFunction(timezone.now)


class TrainingRunFactory(DjangoModelFactory):
    """A training run as the admin's button requests it (queued)."""

    class Meta:
        model = TrainingRun

    trigger = TrainingRun.Trigger.ADMIN
    status = TrainingRun.Status.QUEUED


class PublishedVersionFactory(factory.Factory):
    """An embedding version published through ``version_publish`` (binary COPY, book HNSW index, recall check),
    activated unless ``activate=False``, and its links indexed (``version_index_links``), as a training run does.

    ``book_vectors`` / ``link_vectors`` map books / links to their vectors; without them every book and link
    in the database gets a random unit vector of ``dimensions`` (seeded). Other keywords (``map_coords``,
    ``metrics``, ``shelf_model`` …) go to ``version_publish`` as they are.
    """

    class Meta:
        model = EmbeddingVersion

    activate = True
    dimensions = 8
    seed = 0
    book_vectors = None
    link_vectors = None
    run = None

    @classmethod
    def _create(cls, model_class, *, activate, dimensions, seed, book_vectors, link_vectors, **publish):
        from recommender.services.versions import version_activate, version_index_links, version_publish

        rng = np.random.default_rng(seed)
        book_vectors = book_vectors or _random_vectors(Book.objects.order_by("pk"), dimensions, rng)
        link_vectors = link_vectors or _random_vectors(Link.objects.order_by("pk"), dimensions, rng)
        if connection.in_atomic_block:
            # The test's transaction would hold the COPY's deferred FK checks, and PostgreSQL refuses
            # CREATE INDEX while they are pending; outside tests each step commits on its own.
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        version = version_publish(
            book_ids=np.array([book.pk for book in book_vectors]),
            book_vectors=np.array(list(book_vectors.values()), dtype=np.float32),
            link_ids=np.array([link.pk for link in link_vectors]),
            link_vectors=np.array(list(link_vectors.values()), dtype=np.float32),
            **publish,
        )
        version = version_activate(version=version) if activate else version
        version_index_links(version=version)
        return version


def make_book(title, author="", **fields) -> Book:
    """``BookFactory`` with the title and author first: ``make_book("Dune", "Frank Herbert", genre=...)``."""
    return BookFactory(title=title, author=author, **fields)


def _random_vectors(rows, dimensions: int, rng) -> dict:
    rows = list(rows)
    vectors = rng.normal(size=(len(rows), dimensions))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return dict(zip(rows, vectors.tolist()))
