"""Search on the bundled sample: the examples of issue 21, corrected as a reader meant them or not at all."""
from io import StringIO

import pytest
from django.core.management import call_command

from books.search import book_search_plan
from books.selectors import book_search

pytestmark = pytest.mark.django_db


def titles(plan, n):
    return [book.title for book in book_search(query=plan)[:n]]


def test_the_issues_examples_on_the_bundled_sample():
    call_command("load_sample_data", verbosity=0, stdout=StringIO(), stderr=StringIO())

    mistborn = book_search_plan(query="mistborn")
    assert (mistborn.corrected, mistborn.suggested) == (None, None), "'firstborn' is another book"
    assert titles(mistborn, 1) == []

    harry = book_search_plan(query="hary poter")
    assert harry.corrected == "harry potter", "one corrected query, not 'harry/hardy/hairy potter/poster/porter'"
    assert titles(harry, 7) == [f"{title} (Harry Potter, #{n})" for n, title in enumerate((
        "Harry Potter and the Sorcerer's Stone", "Harry Potter and the Chamber of Secrets",
        "Harry Potter and the Prisoner of Azkaban", "Harry Potter and the Goblet of Fire",
        "Harry Potter and the Order of the Phoenix", "Harry Potter and the Half-Blood Prince",
        "Harry Potter and the Deathly Hallows"), start=1)]

    hobbit = book_search_plan(query="the hobit")
    assert hobbit.corrected == "the hobbit" and titles(hobbit, 1) == ["The Hobbit"]

    for query in ("harry potter", "hobbit", "firstborn", "dostoevsky", "war and peace"):
        plan = book_search_plan(query=query)
        assert (plan.corrected, plan.suggested) == (None, None) and titles(plan, 1), query
