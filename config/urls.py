"""Every URL of the site: the pages (books, recommender), the admin, and the API under /api/."""
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("config.api_router")),
    # The password reset mail is signed by Bookvec, not by the host name it was asked from.
    path("accounts/password_reset/", auth_views.PasswordResetView.as_view(extra_email_context={"site_name": "Bookvec"}),
         name="password_reset"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("books.urls")),
    path("", include("recommender.urls")),
]
