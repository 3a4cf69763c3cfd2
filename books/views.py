"""The catalogue's pages: home, search, books, links, browsing, sign-up and the reader's shelves.

Views parse the request, call one selector or service, and render; they hold no business rules.
"""
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from books import selectors
from books.forms import RatingForm, SearchForm, ShelfChoiceForm, ShelfForm, SignUpForm
from books.importers.normalise import normalise_country
from books.models import Book, Series, Shelf, ShelfEntry
from books.search import book_search_plan
from books.series import series_books, series_size
from books.services import (
    ShelfError,
    SignUpError,
    reader_sign_up,
    reader_sign_up_mail,
    shelf_add_book,
    shelf_create,
    shelf_delete,
    shelf_entry_rate,
    shelf_move_book,
    shelf_remove_book,
    shelf_update,
    shelves_ensure_standard,
)
from books.text import fold
from config.redirects import safe_next_url

BOOKS_PER_PAGE = 24


def search(request):
    form = SearchForm(request.GET)
    is_valid = form.is_valid()  # an invalid field (an unknown source, a query too long) is shown, and finds nothing
    filters = {name: form.cleaned_data.get(name) or None for name in ("genre", "country", "source")}
    query = form.cleaned_data.get("q") or ""
    plan = book_search_plan(query=query)
    books = selectors.book_search(query=plan, **filters) if is_valid else Book.objects.none()
    page = Paginator(books, BOOKS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "books/search.html", {
        "form": form, "query": query, "page_obj": page, "corrected_query": plan.corrected,
        "suggested_query": plan.suggested,
        "has_filters": any(filters.values()),
    })


def genre_index(request):
    return render(request, "books/facet_index.html", {
        "facets": selectors.genre_list(), "facet_kind": "genre", "title": "Genres", "nav": "browse",
    })


def genre_books(request, name: str):
    return _facet_books(request, kind="genre", name=name, books=selectors.book_search(genre=name))


def country_index(request):
    return render(request, "books/facet_index.html", {
        "facets": selectors.country_list(), "facet_kind": "country", "title": "Countries", "nav": "browse",
    })


def country_books(request, name: str):
    # Headed by the catalogue's name of it: /browse/countries/USA/ is the United States.
    return _facet_books(request, kind="country", name=normalise_country(name),
                        books=selectors.book_search(country=name))


AUTHOR_INITIALS = [*"ABCDEFGHIJKLMNOPQRSTUVWXYZ", "#"]


def author_index(request):
    initial = fold(request.GET.get("letter", "A"))[:1].upper() or "A"  # "é" is E, as authors are filed
    if initial not in AUTHOR_INITIALS:
        initial = "#"
    page = Paginator(selectors.author_list(initial=initial), 120).get_page(request.GET.get("page"))
    return render(request, "books/author_index.html", {
        "page_obj": page, "initial": initial, "initials": AUTHOR_INITIALS, "nav": "browse",
    })


def author_books(request, name: str):
    return _facet_books(request, kind="author", name=name, books=selectors.book_search(author=name))


def _facet_books(request, *, kind: str, name: str, books):
    page = Paginator(books, BOOKS_PER_PAGE).get_page(request.GET.get("page"))
    if page.paginator.count == 0:
        raise Http404(f"No books with the {kind} {name!r}.")
    return render(request, "books/facet_books.html", {"kind": kind, "name": name, "page_obj": page, "nav": "browse"})


# --- Accounts ----------------------------------------------------------------------------------------


def series_detail(request, pk: int):
    series = get_object_or_404(Series, pk=pk)
    books = series_books(series)
    return render(request, "books/series_detail.html", {"series": series, "books": books,
                                                        "series_size": series_size(books)})


def sign_up(request):
    if request.user.is_authenticated:
        return redirect("shelf_index")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            email = form.cleaned_data.get("email") or ""
            user = reader_sign_up(username=form.cleaned_data["username"], password=form.cleaned_data["password1"],
                                  email=email)
        except SignUpError as error:  # taken by a sign-up that committed after the form was checked
            form.add_error(error.field, str(error))
        else:
            reader_sign_up_mail(user=user, email=email)
            login(request, user, backend="books.auth.ReaderNameBackend")
            # The same words whether or not another account has the email: sign-up tells no one who is registered.
            sent = f" We sent a mail to {email}." if email else ""
            messages.success(request, f"Welcome, {user.username}! Your four standard shelves are ready.{sent}")
            return redirect(safe_next_url(request) or "shelf_index")
    return render(request, "registration/sign_up.html", {"form": form, "next": request.GET.get("next", "")})


# --- Shelves -----------------------------------------------------------------------------------------


@login_required
def shelf_index(request):
    shelves = list(selectors.shelf_list(owner=request.user))
    if not shelves:
        shelves_ensure_standard(user=request.user)
        shelves = list(selectors.shelf_list(owner=request.user))
    form = ShelfForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            shelf = shelf_create(user=request.user, name=form.cleaned_data["name"],
                                 is_public=form.cleaned_data["is_public"])
        except ShelfError as error:
            form.add_error("name", str(error))
        else:
            messages.success(request, f'Shelf "{shelf.name}" created.')
            return redirect("shelf", pk=shelf.pk)
    return render(request, "books/shelf_index.html", {
        "shelves": shelves, "form": form, "nav": "shelves",
    })


def shelf_detail(request, pk: int):
    shelf = get_object_or_404(selectors.shelves_visible_to(viewer=request.user).select_related("user"), pk=pk)
    is_owner = shelf.user_id == request.user.id
    page = Paginator(selectors.shelf_entries(shelf=shelf), BOOKS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"shelf": shelf, "is_owner": is_owner, "page_obj": page, "nav": "shelves" if is_owner else None}
    if is_owner:
        context["other_shelves"] = [s for s in selectors.shelf_list(owner=request.user) if s.pk != shelf.pk]
        context["edit_form"] = ShelfForm(initial={"name": shelf.name, "is_public": shelf.is_public})
        context["share_url"] = request.build_absolute_uri(reverse("shelf", args=[shelf.pk])) if shelf.is_public else ""
    return render(request, "books/shelf_detail.html", context)


@login_required
@require_POST
def shelf_edit(request, pk: int):
    shelf = get_object_or_404(Shelf, pk=pk, user=request.user)
    form = ShelfForm(request.POST)
    if not form.is_valid():
        messages.error(request, "A shelf needs a name of at most 100 characters.")
        return redirect("shelf", pk=shelf.pk)
    name = form.cleaned_data["name"] if not shelf.is_standard else None
    try:
        shelf_update(shelf=shelf, name=name, is_public=form.cleaned_data["is_public"])
    except ShelfError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f'Shelf "{shelf.name}" saved; it is {"public" if shelf.is_public else "private"}.')
    return redirect("shelf", pk=shelf.pk)


@login_required
@require_POST
def shelf_remove(request, pk: int):
    shelf = get_object_or_404(Shelf, pk=pk, user=request.user)
    try:
        shelf_delete(shelf=shelf)
    except ShelfError as error:
        messages.error(request, str(error))
        return redirect("shelf", pk=shelf.pk)
    messages.success(request, f'Shelf "{shelf.name}" deleted.')
    return redirect("shelf_index")


@login_required
@require_POST
def book_shelve(request, pk: int):
    book = get_object_or_404(Book, pk=pk)
    form = ShelfChoiceForm(request.POST, user=request.user)
    if form.is_valid():
        shelf = form.cleaned_data["shelf"]
        _, added = shelf_add_book(shelf=shelf, book=book)
        messages.success(request, f'"{book.title}" is on your shelf "{shelf.name}".' if added
                         else f'"{book.title}" was already on your shelf "{shelf.name}".')
    else:
        messages.error(request, "Pick one of your shelves.")
    return redirect(safe_next_url(request) or reverse("book", args=[book.pk]))


@login_required
@require_POST
def shelf_book_remove(request, pk: int, book_pk: int):
    shelf = get_object_or_404(Shelf, pk=pk, user=request.user)
    book = get_object_or_404(Book, pk=book_pk)
    if shelf_remove_book(shelf=shelf, book=book):
        messages.success(request, f'"{book.title}" is off the shelf "{shelf.name}".')
    else:  # removed meanwhile, or never there (another tab, a stale page)
        messages.info(request, f'"{book.title}" was not on the shelf "{shelf.name}".')
    return redirect(safe_next_url(request) or reverse("shelf", args=[shelf.pk]))


@login_required
@require_POST
def shelf_book_move(request, pk: int, book_pk: int):
    shelf = get_object_or_404(Shelf, pk=pk, user=request.user)
    book = get_object_or_404(Book, pk=book_pk)
    form = ShelfChoiceForm(request.POST, user=request.user)
    if not form.is_valid():
        messages.error(request, "Pick one of your shelves.")
    else:
        try:
            shelf_move_book(source=shelf, target=form.cleaned_data["shelf"], book=book)
        except ShelfError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f'"{book.title}" moved to "{form.cleaned_data["shelf"].name}".')
    return redirect("shelf", pk=shelf.pk)


@login_required
@require_POST
def shelf_entry_rating(request, pk: int, book_pk: int):
    entry = get_object_or_404(ShelfEntry.objects.select_related("book", "shelf"),
                              shelf__pk=pk, shelf__user=request.user, book__pk=book_pk)
    form = RatingForm(request.POST)
    if form.is_valid():
        shelf_entry_rate(entry=entry, rating=form.cleaned_data["rating"])
        rating = form.cleaned_data["rating"]
        messages.success(request, f'You rated "{entry.book.title}" {rating}/5.' if rating
                         else f'Rating of "{entry.book.title}" cleared.')
    else:
        messages.error(request, "A rating is a whole number from 1 to 5.")
    return redirect(safe_next_url(request) or reverse("shelf", args=[pk]))
