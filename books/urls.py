"""The catalogue's pages: search, browsing, sign-up and shelves (home, a book's and a link's pages are
``recommender.urls``'s: they show what the embeddings say)."""
from django.urls import path, register_converter
from django.urls.converters import PathConverter

from books import views
from books.library import views as library_views


class FacetNameConverter(PathConverter):
    """A genre, country or author name: any text with something besides spaces and without a NUL byte, which
    PostgreSQL text cannot hold (a blank name, or one with a NUL, names nothing, so its address is a 404 like any
    unknown name)."""

    regex = r"\s*[^\x00\s][^\x00]*"  # not [^\x00]*[^\x00\s][^\x00]*: that backtracks quadratically on a long name


register_converter(FacetNameConverter, "facet")

urlpatterns = [
    path("search/", views.search, name="search"),
    path("books/<int:pk>/shelve/", views.book_shelve, name="book_shelve"),
    path("browse/genres/", views.genre_index, name="genre_index"),
    path("browse/genres/<facet:name>/", views.genre_books, name="genre"),
    path("browse/countries/", views.country_index, name="country_index"),
    path("browse/countries/<facet:name>/", views.country_books, name="country"),
    path("browse/authors/", views.author_index, name="author_index"),
    path("browse/authors/<facet:name>/", views.author_books, name="author"),
    path("series/<int:pk>/", views.series_detail, name="series"),
    path("accounts/sign-up/", views.sign_up, name="sign_up"),
    path("shelves/", views.shelf_index, name="shelf_index"),
    path("shelves/import/", library_views.library_import_new, name="library_import_new"),
    path("shelves/import/<int:pk>/", library_views.library_import_detail, name="library_import"),
    path("shelves/import/<int:pk>/rows/<int:row_id>/resolve/", library_views.library_import_row_resolve_page,
         name="library_import_row_resolve"),
    path("shelves/<int:pk>/", views.shelf_detail, name="shelf"),
    path("shelves/<int:pk>/edit/", views.shelf_edit, name="shelf_edit"),
    path("shelves/<int:pk>/delete/", views.shelf_remove, name="shelf_delete"),
    path("shelves/<int:pk>/books/<int:book_pk>/remove/", views.shelf_book_remove, name="shelf_book_remove"),
    path("shelves/<int:pk>/books/<int:book_pk>/move/", views.shelf_book_move, name="shelf_book_move"),
    path("shelves/<int:pk>/books/<int:book_pk>/rate/", views.shelf_entry_rating, name="shelf_entry_rate"),
]
