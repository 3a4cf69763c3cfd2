"""The reader's library pages: upload an export, watch it run, see what did not match and pick the book for it.
Thin: each view calls a books.library service or selector and renders."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from books.library.formats import MAX_FILE_BYTES
from books.library.selectors import library_import_candidates, library_import_get
from books.library.services import library_import_row_resolve, library_import_start
from config.errors import DomainError, Gone


@login_required
def library_import_new(request):
    """The upload form; a good file is queued and the reader sent to its status page."""
    error = ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise DomainError("Choose your export file first.")
            library_import = library_import_start(user=request.user, file_name=upload.name,
                                                  data=upload.read(MAX_FILE_BYTES + 1))
        except DomainError as refused:
            error = str(refused)
        else:
            return redirect("library_import", pk=library_import.pk)
    return render(request, "books/library_import_new.html", {
        "error": error, "max_mb": MAX_FILE_BYTES // 2**20, "nav": "shelves"}, status=400 if error else 200)


@login_required
def library_import_detail(request, pk: int):
    """Progress (the page refreshes itself while queued or running), then the counts and the unmatched rows."""
    try:
        library_import = library_import_get(user=request.user, import_id=pk)
    except Gone:
        raise Http404 from None
    return render(request, "books/library_import_detail.html", {
        "library_import": library_import, "done": library_import.status in ("succeeded", "failed"),
        "rows": library_import_candidates(library_import=library_import), "nav": "shelves"})


@login_required
@require_POST
def library_import_row_resolve_page(request, pk: int, row_id: int):
    try:
        book_id = int(request.POST.get("book", ""))
    except ValueError:
        messages.error(request, "Pick a book for the row first.")
        return redirect("library_import", pk=pk)
    try:
        library_import_row_resolve(user=request.user, import_id=pk, row_id=row_id, book_id=book_id)
    except Gone:
        raise Http404 from None
    except DomainError as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, "Shelved.")
    return redirect("library_import", pk=pk)
