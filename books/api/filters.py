"""Query parameters of the catalogue lists: declared and validated here, answered by the selectors."""
from django.db.models import CharField, F, TextField, Value
from django.db.models.functions import NullIf
from django_filters import rest_framework as filters

from books.models import Author, Book, Link
from books.selectors import author_list_search, book_ids_identified_by, book_search


class StableOrderingFilter(filters.OrderingFilter):
    """Sorts by the chosen fields, missing values (null or empty) last either way, then by id, so pages never
    repeat or skip a row."""

    def filter(self, qs, value):
        fields = [self.get_ordering_value(param) for param in value or () if param]  # "name," has an empty one
        return qs.order_by(*(_missing_last(qs.model, field) for field in fields), "id") if fields else qs


def _missing_last(model, ordering: str):
    """``"-publication_year"`` → the descending order with undated books last (PostgreSQL puts nulls first). A
    book's title or author sorts by its folded copy (``Book.SORT_KEYS``: case and accents aside)."""
    name = ordering.removeprefix("-")
    is_text = isinstance(model._meta.get_field(name), CharField | TextField)
    if name in getattr(model, "SORT_KEYS", {}):
        name, is_text = model.SORT_KEYS[name], False  # already folded, NULL when empty
    value = NullIf(F(name), Value("")) if is_text else F(name)
    return value.desc(nulls_last=True) if ordering.startswith("-") else value.asc(nulls_last=True)


class BookFilter(filters.FilterSet):
    """``/books/`` parameters. Search and the facet filters are ``books.selectors.book_search``'s."""

    search = filters.CharFilter(
        max_length=200, help_text="Words of the title or author; forgives case, accents, prefixes and typos."
    )
    author = filters.CharFilter(max_length=500, help_text="One of the book's authors, exactly (any case).")
    genre = filters.CharFilter(max_length=300, help_text="One of the book's genres, exactly (any case).")
    country = filters.CharFilter(
        max_length=200, help_text="The book's country (any case); other names of it count too: USA, U.S., America."
    )
    source = filters.ChoiceFilter(choices=Book.Source.choices, help_text="Where the book comes from.")
    external_id = filters.CharFilter(
        max_length=650, help_text="Any of the book's identifiers as scheme:value, e.g. goodbooks:1, "
                                  "wikipedia:The Hunger Games (novel), goodreads:2767052, isbn13:9780439023481.")
    ordering = StableOrderingFilter(
        fields=("title", "author", "publication_year", "popularity", "created_at"),
        help_text="Sort order (prefix - for descending); books without the value come last. Default: best match "
                  "first with ?search=, else most popular.",
    )

    class Meta:
        model = Book
        fields = []

    def filter_queryset(self, queryset):
        """The books ``book_search`` finds for these parameters (``queryset`` only names the model)."""
        data = self.form.cleaned_data
        books = book_search(
            query=data["search"] or None,
            genre=data["genre"] or None,
            country=data["country"] or None,
            source=data["source"] or None,
            author=data["author"] or None,
        )
        if data["external_id"]:
            books = books.filter(pk__in=book_ids_identified_by([data["external_id"]]).values())
        return self.filters["ordering"].filter(books, data["ordering"])


class LinkFilter(filters.FilterSet):
    """``/links/`` parameters."""

    search = filters.CharFilter(
        field_name="name", lookup_expr="icontains", max_length=200, help_text="Part of the link's name (any case)."
    )
    kind = filters.ChoiceFilter(choices=Link.Kind.choices, help_text="Wikipedia link, category or reader tag.")
    ordering = StableOrderingFilter(
        fields=("name", "book_count"),
        help_text="Sort order (prefix - for descending). Default: name.",
    )

    class Meta:
        model = Link
        fields = []


class AuthorFilter(filters.FilterSet):
    """``/authors/`` parameters."""

    search = filters.CharFilter(max_length=300,
                                help_text="Part of the name or of another spelling of it (any case, any accents).")

    class Meta:
        model = Author
        fields = []

    def filter_queryset(self, queryset):
        """The authors ``author_list_search`` finds (``queryset`` only names the model)."""
        return author_list_search(query=self.form.cleaned_data["search"] or None)
