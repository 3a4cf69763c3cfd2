"""Books imported after training get a vector in the live version at once, inferred from their links."""
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command

from books.models import Book, Link
from recommender.models import BookVector
from recommender.services.versions import version_activate, version_publish

pytestmark = pytest.mark.django_db
FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "wikipedia_books.ndjson"


def test_a_book_imported_after_training_gets_an_inferred_vector_near_its_links(capsys):
    trained = Book.objects.create(external_id="goodbooks:1", source="goodbooks", title="Trained earlier")
    napoleon = Link.objects.create(name="napoleon", display_name="Napoleon", kind=Link.Kind.WIKILINK)
    version = version_publish(
        run=None, book_ids=np.array([trained.pk]), book_vectors=np.array([[1.0, 0.0, 0.0]], dtype=np.float32),
        link_ids=np.array([napoleon.pk]), link_vectors=np.array([[0.0, 1.0, 0.0]], dtype=np.float32),
    )
    version_activate(version=version)

    call_command("import_wikipedia_books", str(FIXTURE), verbosity=0)

    war_and_peace = Book.objects.get(external_id="wikipedia:War and Peace")
    vector = BookVector.objects.get(version=version, book=war_and_peace)
    assert vector.is_inferred
    assert np.allclose(np.asarray(vector.embedding), [0.0, 1.0, 0.0], atol=1e-6), "its only vectored link"
    assert not BookVector.objects.get(version=version, book=trained).is_inferred
    assert "got a vector inferred" in capsys.readouterr().out


def test_every_entry_point_infers_the_same_way_the_import_service_itself_as_the_bundled_sample_calls_it():
    """The catalogue sends ``catalogue_imported`` from its import services, so an import run by
    ``load_sample_data`` (or any caller of the service) infers as the commands do."""
    from books.importers.wikipedia import wikipedia_books_import

    trained = Book.objects.create(external_id="goodbooks:1", source="goodbooks", title="Trained earlier")
    napoleon = Link.objects.create(name="napoleon", display_name="Napoleon", kind=Link.Kind.WIKILINK)
    version = version_publish(
        run=None, book_ids=np.array([trained.pk]), book_vectors=np.array([[1.0, 0.0, 0.0]], dtype=np.float32),
        link_ids=np.array([napoleon.pk]), link_vectors=np.array([[0.0, 1.0, 0.0]], dtype=np.float32),
    )
    version_activate(version=version)

    report = wikipedia_books_import(path=FIXTURE)

    assert BookVector.objects.get(version=version, book__external_id="wikipedia:War and Peace").is_inferred
    assert any("got a vector inferred" in line for line in report.afterwards)
    assert "got a vector inferred" in report.summary()
