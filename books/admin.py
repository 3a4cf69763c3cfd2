"""The catalogue in the admin: books with their links (and merging two by hand), the merges (and undoing one), links,
readers' shelves with their entries, and API tokens."""
from django import forms
from django.contrib import admin, messages
from django.db import models
from rest_framework.authtoken.admin import TokenAdmin
from rest_framework.authtoken.models import TokenProxy

from books.genres import VOCABULARY
from books.importers.normalise import normalise_country, normalise_language
from books.merges import MergeError, book_merge_undo, books_merge
from books.models import Book, BookLink, BookMerge, Link, Shelf, ShelfEntry, StaffEdit
from books.services import ShelfError, shelf_delete, shelf_name_check, shelf_update
from books.staff_given import FIELDS as STAFF_GIVEN_FIELDS
from books.staff_given import book_values_edited
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


class StaffEditInline(admin.TabularInline):
    """Who gave the book its staff-given values, when and how (by hand here, or a prediction accepted); read-only."""

    model = StaffEdit
    fields = ("field", "value", "previous", "how", "given_by", "given_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name = "staff-given value"
    verbose_name_plural = "staff-given values: kept over the sources' at every import"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("given_by")

    def has_add_permission(self, request, obj=None):
        return False


class StaffGivenFilter(admin.SimpleListFilter):
    """Books with or without values staff gave them (``books.staff_given``)."""

    title = "staff-given values"
    parameter_name = "staff_given"

    def lookups(self, request, model_admin):
        return (("yes", "Some"), ("no", "None"))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.exclude(staff_given={})
        if self.value() == "no":
            return queryset.filter(staff_given={})
        return queryset


class BookAdminForm(forms.ModelForm):
    """A book's fields as staff edit them: genres of the catalogue's vocabulary (``books.genres``), a country and a
    language spelt as the importers spell them (``books.importers.normalise``). The admin makes its fields
    (``BookAdmin.formfield_overrides``)."""

    def clean_genre(self):
        value = self.cleaned_data["genre"]
        if "genre" not in self.changed_data:
            return value
        vocabulary = {name.casefold(): name for name in VOCABULARY}
        entries = [entry.strip() for entry in value.split(",") if entry.strip()]
        unknown = [entry for entry in entries if entry.casefold() not in vocabulary]
        if unknown:
            raise forms.ValidationError(f"Not a genre of the catalogue: {', '.join(unknown)}. Genres, comma-separated, "
                                        f"are among: {', '.join(VOCABULARY)}.")
        return ", ".join(dict.fromkeys(vocabulary[entry.casefold()] for entry in entries))

    def clean_country(self):
        value = self.cleaned_data["country"]
        return normalise_country(value) if "country" in self.changed_data else value

    def clean_language(self):
        value = self.cleaned_data["language"]
        return normalise_language(value) if "language" in self.changed_data else value


@admin.register(Book)
class BookAdmin(admin.ModelAdmin):
    """Staff correct a book's metadata here; books themselves come from the imports (``import_wikipedia_books``,
    ``import_goodbooks``), which give each its source, external id and links. A genre, country or language staff
    edit here is staff-given (``books.staff_given``): kept over the sources' at every import, listed with who gave
    it and when."""

    form = BookAdminForm
    list_display = ("title", "author", "source", "genre", "country", "publication_year", "popularity", "has_staff_given")
    list_filter = ("source", StaffGivenFilter, "genre", "country")
    search_fields = ("title", "author", "external_id")
    readonly_fields = ("external_id", "source", "search_text", "series", "series_position", "series_position_end",
                       "staff_given", "created_at", "updated_at")  # a series is read from the sources at import
    # (books.series); staff_given by editing a genre, country or language here, or accepting a prediction
    inlines = [StaffEditInline, BookLinkInline]
    show_full_result_count = False
    list_per_page = 50
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # a cover typed without a scheme

    actions = ["merge_books"]

    def has_add_permission(self, request):
        return False

    @admin.display(boolean=True, description="staff-given")
    def has_staff_given(self, book):
        return bool(book.staff_given)

    def save_model(self, request, obj, form, change):
        obj.search_text = book_search_text(obj.title, obj.author)  # search finds the book by its new title
        stored = Book.objects.filter(pk=obj.pk).values(*STAFF_GIVEN_FIELDS).first() if change else None
        super().save_model(request, obj, form, change)
        if stored is not None:  # the fields staff changed in the form (all, saved without one)
            before = {field: stored[field] for field in STAFF_GIVEN_FIELDS if form is None or field in form.changed_data}
            book_values_edited(book_id=obj.pk, before=before, by=getattr(request, "user", None))

    @admin.action(description="Merge the two ticked books (into the one imported first)")
    def merge_books(self, request, queryset):
        books = list(queryset.order_by("created_at", "id")[:3])
        if len(books) != 2:
            self.message_user(request, "Tick exactly two books to merge.", messages.ERROR)
            return
        keep, merged = books
        try:
            merge = books_merge(keep=keep, merged=merged, by=request.user)
        except MergeError as error:
            self.message_user(request, str(error), messages.ERROR)
            return
        self.log_change(request, keep, f"Merged {merge.external_id} into this book (merge {merge.pk}).")
        self.message_user(request, f"Merged {merged.title!r} ({merge.external_id}) into {keep.title!r}; the merge "
                                   "can be undone under Book merges.", messages.SUCCESS)


@admin.register(BookMerge)
class BookMergeAdmin(admin.ModelAdmin):
    """Every merge, automatic (an import's, by identifier or title and author) or by hand; a wrong one is undone
    here, which makes the merged book again."""

    list_display = ("book", "external_id", "method", "reason", "created_at", "merged_by", "undone_at", "undone_by")
    list_filter = ("method", "source", ("undone_at", admin.EmptyFieldListFilter))
    list_select_related = ("book", "merged_by", "undone_by")
    search_fields = ("external_id", "reason", "book__title")
    readonly_fields = [field.name for field in BookMerge._meta.fields]
    actions = ["undo_merges"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the log of merges stays whole

    @admin.action(description="Undo the ticked merges (make the merged books again)")
    def undo_merges(self, request, queryset):
        for merge in queryset:
            try:
                book = book_merge_undo(merge=merge, by=request.user)
            except MergeError as error:
                self.message_user(request, f"{merge.external_id}: {error}", messages.ERROR)
                continue
            self.log_change(request, merge, f"Undone: {merge.external_id} is book {book.pk} again.")
            self.message_user(request, f"{merge.external_id} is its own book again.", messages.SUCCESS)


@admin.register(Link)
class LinkAdmin(admin.ModelAdmin):
    list_display = ("display_name", "name", "kind")
    list_filter = ("kind",)
    search_fields = ("name",)
    show_full_result_count = False

    def save_model(self, request, obj, form, change):
        # A link's book_count is the database's (its pairs' triggers): saving the value read with the form
        # would overwrite a count changed meanwhile.
        if change:
            obj.save(update_fields=[f.name for f in obj._meta.concrete_fields if f.editable and not f.primary_key])
        else:
            obj.save()


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


class ShelfAdminForm(forms.ModelForm):
    """A shelf's name and visibility, checked as the site checks them (``books.services``)."""

    class Meta:
        model = Shelf
        fields = ("name", "is_public")

    def clean_name(self):
        name = self.cleaned_data["name"]
        if "name" in self.changed_data:
            try:
                return shelf_name_check(shelf=self.instance, name=name)
            except ShelfError as error:
                raise forms.ValidationError(str(error)) from None
        return name


@admin.register(Shelf)
class ShelfAdmin(admin.ModelAdmin):
    """Readers' shelves. Staff may rename a custom shelf, change who sees it, fix ratings, remove a book or delete a
    custom shelf, through the same services as the site; readers create shelves, and standard ones always stay."""

    form = ShelfAdminForm
    list_display = ("name", "user", "kind", "is_public", "created_at")
    list_filter = ("kind", "is_public")
    list_select_related = ("user",)
    search_fields = ("name", "user__username")
    readonly_fields = ("user", "kind", "created_at")
    inlines = [ShelfEntryInline]
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        standard = obj is not None and obj.is_standard
        return (*self.readonly_fields, "name") if standard else self.readonly_fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return obj is not None and not obj.is_standard  # one at a time, from its page: never a standard shelf

    def save_model(self, request, obj, form, change):
        shelf_update(shelf=Shelf.objects.get(pk=obj.pk), name=obj.name, is_public=obj.is_public)

    def delete_model(self, request, obj):
        shelf_delete(shelf=obj)


admin.site.unregister(TokenProxy)


@admin.register(TokenProxy)
class ReaderTokenAdmin(TokenAdmin):
    """DRF's token admin, with the reader given by id (and a search pop-up) rather than a list of every reader."""

    raw_id_fields = ("user",)
