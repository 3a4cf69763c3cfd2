"""The REST API's routes, gathered in one place: /api/v1/…, the OpenAPI schema and Swagger UI."""
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from books.api import catalogue, library, my_shelves, not_found, public_shelves, tokens
from recommender.api import similar
from recommender.api import views as recommender

v1 = [
    # The catalogue
    path("books/", catalogue.BookListApi.as_view(), name="api-book-list"),
    path("books/<int:pk>/", similar.BookDetailApi.as_view(), name="api-book-detail"),
    path("books/<int:pk>/similar/", similar.BookSimilarApi.as_view(), name="api-book-similar"),
    path("authors/", catalogue.AuthorListApi.as_view(), name="api-author-list"),
    path("authors/<int:pk>/", catalogue.AuthorDetailApi.as_view(), name="api-author-detail"),
    path("links/", catalogue.LinkListApi.as_view(), name="api-link-list"),
    path("links/<int:pk>/", catalogue.LinkDetailApi.as_view(), name="api-link-detail"),
    path("links/<int:pk>/similar/", similar.LinkSimilarApi.as_view(), name="api-link-similar"),
    # Recommendations
    path("recommendations/", recommender.RecommendationApi.as_view(), name="api-recommendations"),
    path("me/recommendations/", recommender.MyRecommendationApi.as_view(), name="api-my-recommendations"),
    path("me/dismissed-books/", recommender.MyDismissedBookListApi.as_view(), name="api-my-dismissed-book-list"),
    path("me/dismissed-books/<int:book_id>/", recommender.MyDismissedBookDetailApi.as_view(),
         name="api-my-dismissed-book-detail"),
    # The signed-in reader's shelves and token
    path("me/shelves/", my_shelves.MyShelfListApi.as_view(), name="api-my-shelf-list"),
    path("me/shelves/<int:pk>/", my_shelves.MyShelfDetailApi.as_view(), name="api-my-shelf-detail"),
    path("me/shelves/<int:pk>/books/", my_shelves.MyShelfEntryListApi.as_view(), name="api-my-shelf-entry-list"),
    path("me/shelves/<int:pk>/books/<int:book_id>/", my_shelves.MyShelfEntryDetailApi.as_view(),
         name="api-my-shelf-entry-detail"),
    path("me/shelves/<int:pk>/books/<int:book_id>/move/", my_shelves.MyShelfEntryMoveApi.as_view(),
         name="api-my-shelf-entry-move"),
    path("me/library-imports/", library.MyLibraryImportListApi.as_view(), name="api-my-library-import-list"),
    path("me/library-imports/<int:pk>/", library.MyLibraryImportDetailApi.as_view(),
         name="api-my-library-import-detail"),
    path("me/library-imports/<int:pk>/rows/<int:row_id>/resolve/", library.MyLibraryImportRowResolveApi.as_view(),
         name="api-my-library-import-row-resolve"),
    path("me/library-export/", library.MyLibraryExportApi.as_view(), name="api-my-library-export"),
    path("me/tokens/", tokens.MyTokenApi.as_view(), name="api-my-token"),
    # Other readers' shelves (public ones, or your own)
    re_path(r"^users/(?P<username>[\w.@+-]{1,150})/shelves/$", public_shelves.UserShelfListApi.as_view(),
            name="api-user-shelf-list"),
    path("shelves/<int:pk>/", public_shelves.ShelfDetailApi.as_view(), name="api-shelf-detail"),
    path("shelves/<int:pk>/books/", public_shelves.ShelfEntryListApi.as_view(), name="api-shelf-entry-list"),
    # Training (staff)
    path("training-runs/", recommender.TrainingRunListApi.as_view(), name="api-training-run-list"),
    path("training-runs/<int:pk>/", recommender.TrainingRunDetailApi.as_view(), name="api-training-run-detail"),
    path("training-runs/<int:pk>/cancel/", recommender.TrainingRunCancelApi.as_view(), name="api-training-run-cancel"),
    path("embedding-versions/", recommender.EmbeddingVersionListApi.as_view(), name="api-embedding-version-list"),
    path("embedding-versions/rollback/", recommender.EmbeddingVersionRollbackApi.as_view(),
         name="api-embedding-version-rollback"),
    path("embedding-versions/<int:pk>/", recommender.EmbeddingVersionDetailApi.as_view(),
         name="api-embedding-version-detail"),
    path("embedding-versions/<int:pk>/activate/", recommender.EmbeddingVersionActivateApi.as_view(),
         name="api-embedding-version-activate"),
    # Operations
    path("health/", recommender.HealthApi.as_view(), name="api-health"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
]

urlpatterns = [
    path("v1/", include(v1)),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    # Anything else under /api/ is a JSON 404, never the site's HTML page.
    re_path(r"^.*$", not_found.ApiNotFound.as_view(), name="api-not-found"),
]
