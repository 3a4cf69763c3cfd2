"""The site's forms: search, sign-up and shelf edits. They validate input; services do the writing."""
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm

from books.models import Book, Shelf
from books.services import IMPORTED_READER_PREFIX


class SearchForm(forms.Form):
    q = forms.CharField(label="Title or author", required=False, max_length=200)
    genre = forms.CharField(label="Genre", required=False, max_length=300)
    country = forms.CharField(label="Country", required=False, max_length=200)
    source = forms.ChoiceField(label="Source", required=False, choices=[("", "Any source"), *Book.Source.choices])


class SignUpForm(UserCreationForm):
    email = forms.EmailField(label="Email (optional)", required=False,
                             help_text="Only used to reset your password.")

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")

    def clean_username(self) -> str:
        """goodbooks readers are imported as ``goodbooks-<id>``: a reader who took such a name would be given that
        reader's shelves by the next import."""
        username = super().clean_username()
        if username and username.lower().startswith(IMPORTED_READER_PREFIX):
            raise forms.ValidationError(f"Names starting with “{IMPORTED_READER_PREFIX}” are kept for imported "
                                        "goodbooks readers.", code="username_reserved")
        return username

    def clean_email(self) -> str:
        """An email names one account, whatever its case, so a password reset reaches exactly one reader."""
        email = self.cleaned_data["email"]
        if email and get_user_model().objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                "Another account already uses this email. If it is yours, log in or reset its password.",
                code="email_taken",
            )
        return email


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
