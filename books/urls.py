"""The catalogue's pages."""
urlpatterns = []
