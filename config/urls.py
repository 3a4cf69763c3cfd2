"""Every URL of the site: the pages (books, recommender), the admin, and the API under /api/."""
from django.contrib import admin
from django.urls import include, path

from config.account_limits import LimitedLoginView, LimitedPasswordResetView

urlpatterns = [
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
