"""The recommender's pages: home, a book's and a link's pages, recommendations, the map, the projector download,
training status."""
from django.urls import path

from recommender import catalogue_pages, views

urlpatterns = [
    path("", catalogue_pages.home, name="home"),
    path("books/<int:pk>/", catalogue_pages.book_detail, name="book"),
    path("links/<int:pk>/", catalogue_pages.link_detail, name="link"),
    path("for-you/", views.for_you, name="for_you"),
    path("for-you/not-interested/<int:pk>/", views.book_not_interested, name="book_not_interested"),
    path("for-you/not-interested/<int:pk>/undo/", views.book_not_interested_undo, name="book_not_interested_undo"),
    path("training/progress.json", views.first_training_progress, name="first_training_progress"),
    path("map/", views.map_page, name="map"),
    path("map/points.json", views.map_points, name="map_points"),
    path("map/books/<int:pk>/neighbours.json", views.map_neighbours, name="map_neighbours"),
    path("projector/vectors.tsv", views.projector_vectors, name="projector_vectors"),
    path("projector/metadata.tsv", views.projector_metadata, name="projector_metadata"),
    path("staff/training/", views.training_status, name="training_status"),
    path("staff/training/retrain/", views.training_retrain, name="training_retrain"),
]
