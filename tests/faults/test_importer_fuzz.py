"""The goodbooks importer fed property-based bad rows (hypothesis): always a clear error naming the file and
line, never a traceback, and the catalogue exactly as it was. (The Wikipedia importer's own property-based
test lives in tests/books/test_importers_wikipedia.py.)"""
import re
import shutil
import tempfile
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from books.models import Book, BookLink, Link, Shelf, ShelfEntry

pytestmark = pytest.mark.django_db

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "goodbooks"
CSV_SAFE = st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters=',"\r\n')


def row_counts() -> dict[str, int]:
    models = (Book, Link, BookLink, Shelf, ShelfEntry, get_user_model())
    return {model.__name__: model.objects.count() for model in models}


def not_a_whole_number(text: str) -> bool:
    """Not plain digits with an optional minus, as the importer reads a whole number ("+5", "1_0", "٣" are not)."""
    return re.fullmatch(r"-?[0-9]+", text.strip()) is None


junk = st.one_of(
    st.text(CSV_SAFE, min_size=1, max_size=12).filter(not_a_whole_number),
    st.sampled_from(["+5", "1_0", "٣", "4.0", "1e3"]),
    st.integers(min_value=2**31, max_value=10**40).map(str),  # beyond what PostgreSQL's integer holds
)
unknown_book = st.integers(min_value=5, max_value=10**9)  # the fixture's books are 1-4
bad_rating = st.integers(min_value=-10**6, max_value=10**6).filter(lambda r: not 1 <= r <= 5)

BAD_ROWS = st.one_of(
    st.tuples(st.just("ratings.csv"), st.tuples(st.integers(1, 50), st.integers(1, 4), bad_rating)),
    st.tuples(st.just("ratings.csv"), st.tuples(st.integers(1, 50), junk, st.integers(1, 5))),
    st.tuples(st.just("ratings.csv"), st.tuples(junk, st.integers(1, 4), st.integers(1, 5))),
    st.tuples(st.just("to_read.csv"), st.tuples(st.integers(1, 50), unknown_book)),
    st.tuples(st.just("to_read.csv"), st.tuples(st.integers(1, 50), junk)),
    st.tuples(st.just("book_tags.csv"), st.tuples(st.just(2767052), junk, st.integers(1, 100))),
    st.tuples(st.just("book_tags.csv"), st.tuples(st.just(2767052), st.integers(10**6, 10**9), st.integers(1, 100))),
    st.tuples(st.just("book_tags.csv"), st.tuples(unknown_book, st.just(30574), st.integers(1, 100))),
    st.tuples(st.sampled_from(["ratings.csv", "to_read.csv", "book_tags.csv"]), st.tuples(st.integers(1, 9))),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bad=BAD_ROWS, position=st.integers(min_value=0, max_value=3))
def test_any_bad_row_fails_naming_file_and_line_and_changes_nothing(bad, position):
    file_name, values = bad
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(shutil.copytree(FIXTURE, Path(scratch) / "goodbooks"))
        if not Book.objects.exists():
            call_command("import_goodbooks", str(folder), verbosity=0, stdout=StringIO(), stderr=StringIO())
        lines = (folder / file_name).read_text(encoding="utf-8").splitlines()
        at = min(1 + position, len(lines))  # after the header
        lines.insert(at, ",".join(str(value) for value in values))
        (folder / file_name).write_text("\n".join(lines) + "\n", encoding="utf-8")
        before = row_counts()

        with pytest.raises(CommandError) as error:
            call_command("import_goodbooks", str(folder), verbosity=0, stdout=StringIO(), stderr=StringIO())

    assert f"{file_name}:{at + 1}:" in str(error.value)
    assert "Traceback" not in str(error.value)
    assert row_counts() == before
