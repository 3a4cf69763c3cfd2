"""The site's forms: search, sign-up and shelf edits. They validate input; services do the writing."""
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm

from books.models import Book, Shelf
from books.services import SignUpError, reader_sign_up_check


class SearchForm(forms.Form):
    q = forms.CharField(label="Title or author", required=False, max_length=200)
    genre = forms.CharField(label="Genre", required=False, max_length=300)
    country = forms.CharField(label="Country", required=False, max_length=200)
    source = forms.ChoiceField(label="Source", required=False, choices=[("", "Any source"), *Book.Source.choices])


class SignUpForm(UserCreationForm):
    email = forms.EmailField(label="Email (optional)", required=False,
                             help_text="Only used to reset your password. We send it a mail.")

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")

    def clean(self) -> dict:
        """The checks sign-up makes again under its lock (``reader_sign_up_check``), shown with the other errors."""
        cleaned = super().clean()
        if cleaned.get("username"):
            try:
                reader_sign_up_check(username=cleaned["username"])
            except SignUpError as error:
                self.add_error(error.field, str(error))
        return cleaned


class ShelfForm(forms.Form):
    name = forms.CharField(label="Shelf name", max_length=100)
    is_public = forms.BooleanField(label="Public (anyone with the link can see it)", required=False)


class ShelfChoiceForm(forms.Form):
    """Pick one of the reader's own shelves (to add a book to, or move it to)."""

    shelf = forms.ModelChoiceField(label="Shelf", queryset=Shelf.objects.none(), empty_label=None)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["shelf"].queryset = Shelf.objects.filter(user=user)


class RatingForm(forms.Form):
    rating = forms.TypedChoiceField(
        label="Your rating", required=False, coerce=int, empty_value=None,
        choices=[("", "No rating"), *((n, "★" * n) for n in range(1, 6))],
    )
