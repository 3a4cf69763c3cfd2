"""Every URL of the site: the pages (books, recommender), the admin, and the API under /api/."""
from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView

from config.account_limits import LimitedLoginView, LimitedPasswordResetView

urlpatterns = [
    # Browsers ask for /favicon.ico whatever the page links; the file is served with the other static files.
    path("favicon.ico", RedirectView.as_view(url=lazy(static, str)("favicon.ico"), permanent=True)),
    path("admin/", admin.site.urls),
    path("api/", include("config.api_router")),
    # Sign-in and password reset are limited per account and per client (config/account_limits.py). The reset
    # mail is signed by Bookvec, not by the host name it was asked from.
    path("accounts/login/", LimitedLoginView.as_view(), name="login"),
    path("accounts/password_reset/", LimitedPasswordResetView.as_view(extra_email_context={"site_name": "Bookvec"}),
         name="password_reset"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("books.urls")),
    path("", include("recommender.urls")),
]
