"""Writes to readers' shelves. The site and the API both call these; nothing else writes shelves.

Every service is atomic and safe under concurrent calls for the same reader: adding a book that is
already there updates it instead of duplicating it, and the standard shelves are created exactly once.
"""
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from rest_framework.authtoken.models import Token

from books.models import Book, Shelf, ShelfEntry
from config.errors import Gone, InvalidInput


class ShelfError(InvalidInput):
    """A shelf operation the reader asked for cannot be done; the message says why."""


class ShelfGone(ShelfError, Gone):
    """The shelf, or the book on it, was deleted or moved by another request in the meantime."""


class SignUpError(ValueError):
    """The account cannot be created; ``field`` names the form field at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


STANDARD_SHELF_NAMES = {kind: kind.label for kind in Shelf.STANDARD_KINDS}
IMPORTED_READER_PREFIX = "goodbooks-"
"""Usernames of goodbooks readers (``goodbooks-<user_id>``), which the import fills; sign-up refuses them."""
CUSTOM_SHELVES_MAX = 200
"""Custom shelves a reader may have (their shelf pages list them all)."""
SIGN_UP_LOCK = 0x7369676E  # any constant ("sign"): identifies sign-up locks among the database's advisory locks


@transaction.atomic
def shelves_ensure_standard(*, user) -> list[Shelf]:
    """Give ``user`` the four standard shelves if they lack any; return all their shelves."""
    Shelf.objects.bulk_create(
        [Shelf(user=user, kind=kind, name=name) for kind, name in STANDARD_SHELF_NAMES.items()],
        ignore_conflicts=True,
    )
    return list(Shelf.objects.filter(user=user))


@transaction.atomic
def shelf_create(*, user, name: str, is_public: bool = False) -> Shelf:
    """Create a custom shelf; names are unique per reader, whatever their case."""
    name = _clean_shelf_name(name)
    _check_shelf_name_free(user_id=user.pk, name=name)
    if Shelf.objects.filter(user=user, kind=Shelf.Kind.CUSTOM).count() >= CUSTOM_SHELVES_MAX:
        raise ShelfError(f"A reader can have at most {CUSTOM_SHELVES_MAX} shelves of their own; delete one first.")
    return Shelf.objects.create(user=user, name=name, kind=Shelf.Kind.CUSTOM, is_public=is_public)


@transaction.atomic
def shelf_update(*, shelf: Shelf, name: str | None = None, is_public: bool | None = None) -> Shelf:
    """Rename a custom shelf and/or change who may see it. Standard shelves keep their names."""
    if name is not None and name.strip() != shelf.name:
        shelf.name = shelf_name_check(shelf=shelf, name=name)
    if is_public is not None:
        shelf.is_public = is_public
    if not Shelf.objects.filter(pk=shelf.pk).update(name=shelf.name, is_public=shelf.is_public):
        raise ShelfGone(f'The shelf "{shelf.name}" has been deleted.')
    return shelf


def shelf_name_check(*, shelf: Shelf, name: str) -> str:
    """``name`` cleaned, if ``shelf`` may take it; else ShelfError (a standard shelf, a blank or too long name, a name
    the reader already uses). Call it in a transaction: the reader's row stays locked until it ends."""
    if shelf.is_standard:
        raise ShelfError(f'"{shelf.name}" is a standard shelf and cannot be renamed.')
    new_name = _clean_shelf_name(name)
    _check_shelf_name_free(user_id=shelf.user_id, name=new_name, renamed_id=shelf.pk)
    return new_name


@transaction.atomic
def shelf_delete(*, shelf: Shelf) -> None:
    """Delete a custom shelf and its entries (the books stay on the reader's other shelves)."""
    if shelf.is_standard:
        raise ShelfError(f'"{shelf.name}" is a standard shelf and cannot be deleted.')
    shelf.delete()


def shelf_add_book(*, shelf: Shelf, book: Book, rating: int | None = None) -> tuple[ShelfEntry, bool]:
    """Put ``book`` on ``shelf`` (idempotent: an existing entry keeps its date, and gets the rating if given).
    Returns the entry and whether it is new."""
    _check_rating(rating)
    defaults = {"rating": rating} if rating is not None else {}
    return ShelfEntry.objects.update_or_create(
        shelf=shelf, book=book, defaults=defaults, create_defaults={**defaults, "added_at": timezone.now()}
    )


@transaction.atomic
def shelf_remove_book(*, shelf: Shelf, book: Book) -> bool:
    """Take ``book`` off ``shelf``; returns whether it was there (removing a book that is not is not an error)."""
    deleted, _ = ShelfEntry.objects.filter(shelf=shelf, book=book).delete()
    return bool(deleted)


@transaction.atomic
def shelf_move_book(*, source: Shelf, target: Shelf, book: Book) -> ShelfEntry:
    """Move ``book`` from one of a reader's shelves to another, keeping its rating."""
    if source.user_id != target.user_id:
        raise ShelfError("Books can only move between shelves of the same reader.")
    if source.pk == target.pk:
        raise ShelfError(f'"{book.title}" is already on the shelf "{target.name}".')
    entry = ShelfEntry.objects.select_for_update().filter(shelf=source, book=book).first()
    if entry is None:
        raise ShelfGone(f'"{book.title}" is not on the shelf "{source.name}" any more.')
    moved, _ = shelf_add_book(shelf=target, book=book, rating=entry.rating)
    entry.delete()
    return moved


@transaction.atomic
def shelf_entry_rate(*, entry: ShelfEntry, rating: int | None) -> ShelfEntry:
    """Set (or clear, with ``None``) the reader's 1–5 rating of a shelved book."""
    _check_rating(rating)
    if not ShelfEntry.objects.filter(pk=entry.pk).update(rating=rating):
        raise ShelfGone("The book is not on that shelf any more.")
    entry.rating = rating
    return entry


@transaction.atomic
def reader_sign_up(*, username: str, password: str, email: str = ""):
    """Create a reader account (the password hashed) with its four standard shelves; return the user.

    A username or an email names one account whatever its case (a password reset reaches exactly one reader), and
    names starting with ``IMPORTED_READER_PREFIX`` are the import's. An email another account has already is not
    refused, which would tell anyone who is registered: the account is created without it (``reader_sign_up_mail``
    tells the address's owner). Sign-ups of one name or one email run one at a time (advisory locks on them,
    held until commit), so two at once cannot both take it; others do not wait for each other."""
    with connection.cursor() as cursor:
        for kind, value in (("username", username), ("email", email)):
            if value:  # the key folds case with UPPER(), as the iexact checks compare: equal names, one lock
                cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s || UPPER(%s)))",
                               [SIGN_UP_LOCK, f"{kind}:", value])
    reader_sign_up_check(username=username)
    if email and get_user_model().objects.filter(email__iexact=email).exists():
        email = ""
    user = get_user_model().objects.create_user(username=username, password=password, email=email)
    shelves_ensure_standard(user=user)
    return user


def reader_sign_up_mail(*, user, email: str) -> None:
    """After ``reader_sign_up`` with ``email``: a mail to that address either way, so the page and the mail count
    say the same whether or not it was registered. It welcomes the new reader, or, when another account has the
    address (so it was not added), tells the address's owner and what to do if it was them."""
    if not email:
        return
    if user.email:
        subject, template = "Welcome to Bookvec", "registration/sign_up_welcome_mail.txt"
    else:
        subject, template = "Someone signed up to Bookvec with your email", "registration/sign_up_email_taken_mail.txt"
    send_mail(subject, render_to_string(template, {"username": user.username, "email": email}),
              settings.DEFAULT_FROM_EMAIL, [email])


def reader_sign_up_check(*, username: str) -> None:
    """SignUpError if ``username`` cannot be had: a name an account has already (whatever its case), or a name the
    goodbooks import keeps for its readers (``goodbooks-<id>``: the next import would fill that account with
    their shelves)."""
    users = get_user_model().objects
    if username.lower().startswith(IMPORTED_READER_PREFIX):
        raise SignUpError("username", f"Names starting with “{IMPORTED_READER_PREFIX}” are kept for imported "
                                      "goodbooks readers.")
    if users.filter(username__iexact=username).exists():
        raise SignUpError("username", "A user with that username already exists.")


@transaction.atomic
def reader_token_create(*, user) -> Token:
    """A new API token for ``user``, revoking the previous one (one per reader). The reader's row stays locked
    until the transaction ends, so two requests at once cannot both create one."""
    get_user_model().objects.select_for_update().get(pk=user.pk)
    reader_token_revoke(user=user)
    return Token.objects.create(user=user)


def reader_token_revoke(*, user) -> None:
    """Revoke ``user``'s API token: clients using it are signed out. Also done when the password changes
    (``books.signals``), as Django ends the reader's other sessions then."""
    Token.objects.filter(user=user).delete()


def _clean_shelf_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ShelfError("A shelf needs a name.")
    if len(name) > 100:
        raise ShelfError("A shelf name can be at most 100 characters.")
    return name


def _check_shelf_name_free(*, user_id: int, name: str, renamed_id: int | None = None) -> None:
    """Shelf names are unique per reader ignoring case (the shelf being renamed aside), and a custom shelf never
    takes a standard shelf's name, even before the reader has the standard shelves. The reader's row stays locked
    until the transaction ends, so two concurrent calls cannot both find the same name free."""
    get_user_model().objects.select_for_update().get(pk=user_id)
    taken = next((standard for standard in STANDARD_SHELF_NAMES.values() if standard.lower() == name.lower()), None)
    if taken is None:
        others = Shelf.objects.filter(user_id=user_id, name__iexact=name)
        if renamed_id is not None:
            others = others.exclude(pk=renamed_id)
        taken = others.values_list("name", flat=True).first()
    if taken:
        raise ShelfError(f'You already have a shelf named "{taken}".')


def _check_rating(rating: int | None) -> None:
    if rating is not None and (isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5):
        raise ShelfError("A rating is a whole number from 1 to 5.")
