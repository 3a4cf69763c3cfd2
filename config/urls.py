"""Every URL of the site: the pages (books, recommender), the admin, and the API under /api/."""
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("config.api_router")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("books.urls")),
    path("", include("recommender.urls")),
]
