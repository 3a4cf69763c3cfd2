"""Every URL of the site: the pages (books, recommender), the admin, and the API under /api/."""
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView

urlpatterns = [
    # Browsers ask for /favicon.ico whatever the page links; the file is served with the other static files.
    path("favicon.ico", RedirectView.as_view(url=lazy(static, str)("favicon.ico"), permanent=True)),
    path("admin/", admin.site.urls),
    path("api/", include("config.api_router")),
    # The password reset mail is signed by Bookvec, not by the host name it was asked from.
    path("accounts/password_reset/", auth_views.PasswordResetView.as_view(extra_email_context={"site_name": "Bookvec"}),
         name="password_reset"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("books.urls")),
    path("", include("recommender.urls")),
]
