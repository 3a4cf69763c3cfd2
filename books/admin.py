"""The catalogue in the admin: books with their links, links, readers' shelves with their entries, and API tokens."""
from django.contrib import admin
from django.db import models
from rest_framework.authtoken.admin import TokenAdmin
from rest_framework.authtoken.models import TokenProxy

from books.models import Book, BookLink, Link, Shelf, ShelfEntry
from books.text import book_search_text


class BookLinkInline(admin.TabularInline):
    """A book's links, read-only: they come from imports, and a book can have hundreds."""

    model = BookLink
    fields = ("link", "link_kind", "count")
    readonly_fields = ("link", "link_kind", "count")
    extra = 0
    can_delete = False
    show_change_link = False
    ordering = ("-count", "link__name")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("book", "link")  # both name each row

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="kind")
    def link_kind(self, pair):
        return pair.link.get_kind_display()


@admin.register(Book)
class BookAdmin(admin.ModelAdmin):
    list_display = ("title", "author", "source", "genre", "country", "publication_year", "popularity")
    list_filter = ("source", "genre", "country")
    search_fields = ("title", "author", "external_id")
    readonly_fields = ("external_id", "source", "search_text", "created_at", "updated_at")
    inlines = [BookLinkInline]
    show_full_result_count = False
    list_per_page = 50
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # a cover typed without a scheme

    def save_model(self, request, obj, form, change):
        obj.search_text = book_search_text(obj.title, obj.author)  # search finds the book by its new title
        super().save_model(request, obj, form, change)


@admin.register(Link)
class LinkAdmin(admin.ModelAdmin):
    list_display = ("display_name", "name", "kind")
    list_filter = ("kind",)
    search_fields = ("name",)
    show_full_result_count = False


class ShelfEntryInline(admin.TabularInline):
    """A shelf's books; readers add them on the site (books.services), staff may fix a rating or remove one."""

    model = ShelfEntry
    fields = ("book", "rating", "added_at")
    readonly_fields = ("book", "added_at")
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("book")


@admin.register(Shelf)
class ShelfAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "kind", "is_public", "created_at")
    list_filter = ("kind", "is_public")
    list_select_related = ("user",)
    search_fields = ("name", "user__username")
    raw_id_fields = ("user",)
    inlines = [ShelfEntryInline]
    show_full_result_count = False


admin.site.unregister(TokenProxy)


@admin.register(TokenProxy)
class ReaderTokenAdmin(TokenAdmin):
    """DRF's token admin, with the reader given by id (and a search pop-up) rather than a list of every reader."""

    raw_id_fields = ("user",)
