"""The catalogue's pages that show what the embeddings say: the home page (training status, the map's teaser), a
book (its links learned from, "Books like this") and a link (its nearest links)."""
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render

from books import selectors
from books.models import Book, Link
from books.series import series_books, series_size
from books.services import shelves_ensure_standard
from recommender import selectors as recommender_selectors
from recommender.exports import map_teaser
from recommender.shelf_tags import is_shelf_tag

BOOKS_PER_PAGE = 24
SIMILAR_BOOKS = 12
NEAREST_LINKS = 15
SERIES_SHOWN = 10


def home(request):
    version = recommender_selectors.active_version()
    return render(request, "books/home.html", {
        "popular_books": selectors.books_popular(limit=12),
        "recent_books": selectors.books_recently_added(limit=6),
        "training_status": recommender_selectors.training_status(),
        "map_teaser": map_teaser(version=version) if version else None,
        "genres": selectors.genre_list(limit=16),
    })


def book_detail(request, pk: int):
    try:
        book = selectors.book_detail(book_id=pk)
    except Book.DoesNotExist:
        raise Http404("No such book.") from None
    version = recommender_selectors.active_version()
    has_vector = recommender_selectors.book_has_vector(book=book)
    is_left_out = recommender_selectors.left_out_of_training(version=version)
    book_links = list(book.book_links.all())
    learned_from = [book_link for book_link in book_links if not is_left_out(book_link.link)]
    in_series = series_books(book.series) if book.series_id else []
    context = {
        "book": book,
        "series_books": in_series,
        "series_size": series_size(in_series),
        "series_window": _series_window(in_series, book),
        "links_learned_from": [book_link for book_link in learned_from if not _is_shelf_tag(book_link.link)],
        "shelf_tags_learned_from": [book_link for book_link in learned_from if _is_shelf_tag(book_link.link)],
        "links_left_out": [book_link for book_link in book_links if is_left_out(book_link.link)],
        "reader_count": book.reader_count,
        "has_vector": has_vector,
        "similar_books": recommender_selectors.similar_books(book=book, k=SIMILAR_BOOKS) if has_vector else [],
        "active_version": version,
        "predictions": recommender_selectors.book_predictions(book=book, version=version),
    }
    if request.user.is_authenticated:
        context.update(_shelf_controls(user=request.user, book=book))
    return render(request, "books/book_detail.html", context)


def _series_window(books: list[Book], book: Book) -> list[Book]:
    """At most ``SERIES_SHOWN`` of the series' books around ``book``, in order (the series page lists them all)."""
    at = next((i for i, other in enumerate(books) if other.pk == book.pk), 0)
    start = max(0, min(at - SERIES_SHOWN // 2, len(books) - SERIES_SHOWN))
    return books[start:start + SERIES_SHOWN]


def _is_shelf_tag(link: Link) -> bool:
    return link.kind == Link.Kind.TAG and is_shelf_tag(link.name)


def link_detail(request, pk: int):
    try:
        link = selectors.link_detail(link_id=pk)
    except Link.DoesNotExist:
        raise Http404("No such link.") from None
    page = Paginator(selectors.link_books(link=link), BOOKS_PER_PAGE).get_page(request.GET.get("page"))
    nearest_links = recommender_selectors.similar_links(link=link, k=NEAREST_LINKS)
    return render(request, "books/link_detail.html", {
        "link": link, "page_obj": page, "nearest_links": nearest_links,
        "is_left_out_of_training": not nearest_links and recommender_selectors.left_out_of_training(
            version=recommender_selectors.active_version())(link),
    })


def _shelf_controls(*, user, book) -> dict:
    """The reader's shelves for the book page: where the book is, and where it could go."""
    shelves = list(selectors.shelf_list(owner=user)) or shelves_ensure_standard(user=user)
    holding = selectors.shelves_holding_book(user=user, book=book)
    return {
        "shelves_holding": [shelf for shelf in shelves if shelf.pk in holding],
        "shelves_free": [shelf for shelf in shelves if shelf.pk not in holding],
    }
