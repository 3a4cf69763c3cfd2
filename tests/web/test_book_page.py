"""The book page as a reader sees it: Goodreads ratings and their spread, how many readers shelved it here, where its
data comes from in words, its title without the series suffix, and only the tags that describe the book."""
import pytest
from django.urls import reverse

from books.models import Book, BookLink, Link, Shelf
from books.services import shelf_add_book, shelves_ensure_standard
from books.templatetags.book_page import display_title, goodreads_ratings, series_suffix
from recommender.shelf_tags import is_shelf_tag
from tests.factories import make_book

pytestmark = pytest.mark.django_db

HUNGER_GAMES_ROW = {"average_rating": "4.34", "ratings_1": "66715", "ratings_2": "127936", "ratings_3": "560092",
                    "ratings_4": "1481305", "ratings_5": "2706317"}


@pytest.fixture
def hunger_games():
    book = make_book("The Hunger Games (The Hunger Games, #1)", "Suzanne Collins", source="goodbooks",
                     metadata=HUNGER_GAMES_ROW)
    for name in ("dystopia", "young-adult", "my-favorites", "faves", "5-star", "read-more-than-once", "to-read"):
        link, _ = Link.objects.get_or_create(name=name, defaults={"display_name": name, "kind": Link.Kind.TAG})
        BookLink.objects.create(book=book, link=link, count=10)
    return book


def test_the_book_page_shows_goodreads_ratings_and_readers_who_shelved_it(client, hunger_games, user, other_user):
    for reader in (user, other_user):
        shelves_ensure_standard(user=reader)
        shelf_add_book(shelf=Shelf.objects.get(user=reader, kind=Shelf.Kind.READ), book=hunger_games)
    shelf_add_book(shelf=Shelf.objects.get(user=user, kind=Shelf.Kind.FAVOURITES), book=hunger_games)
    html = client.get(reverse("book", args=[hunger_games.pk])).content.decode()
    assert '<span class="rating-number">4.34</span>' in html and "average of 4,942,365 Goodreads ratings" in html
    assert "<th scope=\"row\">5 ★</th>" in html and ">55%</td>" in html and ">1%</td>" in html, "the spread, 5 first"
    assert "<strong>2</strong> readers shelved it here" in html, "each reader once, whatever their shelves"


def test_a_book_without_ratings_or_readers_shows_neither(client, genre_catalogue):
    html = client.get(reverse("book", args=[genre_catalogue["war_and_peace"].pk])).content.decode()
    assert 'data-testid="reception"' not in html


def test_the_source_is_named_in_a_readers_words_with_a_link(client, hunger_games, genre_catalogue):
    html = client.get(reverse("book", args=[hunger_games.pk])).content.decode()
    assert '<a href="https://github.com/zygmuntz/goodbooks-10k">Reader tags from goodbooks-10k</a>' in html
    assert '<p class="book-source"><a href="https://github.com/zygmuntz/goodbooks-10k">' in html
    html = client.get(reverse("book", args=[genre_catalogue["war_and_peace"].pk])).content.decode()
    assert '<a href="https://en.wikipedia.org/wiki/War_and_Peace">Wikipedia article</a>' in html


def test_the_title_is_shown_without_its_series_suffix_and_kept_whole(client, hunger_games):
    html = client.get(reverse("book", args=[hunger_games.pk])).content.decode()
    assert '<h1 title="The Hunger Games (The Hunger Games, #1)">The Hunger Games</h1>' in html
    assert '<p class="book-subtitle" data-testid="series">The Hunger Games, #1</p>' in html
    assert "<title>The Hunger Games · Bookvec</title>" in html


@pytest.mark.parametrize(("title", "shown", "series"), [
    ("The Hunger Games (The Hunger Games, #1)", "The Hunger Games", "The Hunger Games, #1"),
    ("The Colour of Magic (Discworld, #1; Rincewind #1)", "The Colour of Magic", "Discworld, #1; Rincewind #1"),
    ("Sabriel (Abhorsen,  #1)", "Sabriel", "Abhorsen, #1"),
    ("Harry Potter Boxed Set, Books 1-5 (Harry Potter, #1-5)", "Harry Potter Boxed Set, Books 1-5", "Harry Potter, #1-5"),
    ("Fahrenheit 451", "Fahrenheit 451", ""),
    ("The Help (A Novel)", "The Help (A Novel)", ""),
    ("(Hitchhiker, #1)", "(Hitchhiker, #1)", ""),
])
def test_a_display_title_drops_only_a_series_number_suffix(title, shown, series):
    assert (display_title(title), series_suffix(title)) == (shown, series)


def test_tag_chips_are_only_tags_that_describe_the_book(client, hunger_games):
    html = client.get(reverse("book", args=[hunger_games.pk])).content.decode()
    chips = html.split('<ul class="chips">')[1].split("</ul>")[0]
    assert ">dystopia" in chips and ">young-adult" in chips
    for shelf_tag in ("my-favorites", "faves", "5-star", "read-more-than-once", "to-read"):
        assert f">{shelf_tag}" not in chips
    assert "4 tags not shown, such as “" in html, "learned from by training, but not about the book"
    assert "1 link left out, “to-read”" in html, "on training's removal list"


@pytest.mark.parametrize("name", ["to-read", "my-favorites", "faves", "5-star", "4-stars", "five-stars",
                                  "read-more-than-once", "2015-books", "read-in-2014", "owned-books", "all-time-favorites"])
def test_shelf_like_tags_are_recognised(name):
    assert is_shelf_tag(name)


@pytest.mark.parametrize("name", ["fiction", "young-adult", "classics", "dystopia", "fantasy", "science-fiction",
                                  "historical-fiction", "romance", "star-wars", "world-war-ii"])
def test_tags_about_the_book_are_kept(name):
    assert not is_shelf_tag(name)


def test_ratings_are_read_only_from_a_complete_row():
    assert goodreads_ratings(make_book("Partial", source="goodbooks", metadata={"average_rating": "4.1"})) is None
    assert goodreads_ratings(make_book("Garbled", source="goodbooks",
                                       metadata={**HUNGER_GAMES_ROW, "ratings_3": "many"})) is None


def test_the_maps_book_panel_shows_titles_without_series_suffixes(client, embeddings, genre_catalogue):
    book = genre_catalogue["war_and_peace"]
    Book.objects.filter(pk=book.pk).update(title="War and Peace (Tolstoy's Novels, #2)")
    data = client.get(reverse("map_neighbours", args=[book.pk])).json()
    assert data["book"]["title"] == "War and Peace"
