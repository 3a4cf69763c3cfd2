from django.apps import AppConfig


class RecommenderConfig(AppConfig):
    name = "recommender"
    verbose_name = "Embeddings"

    def ready(self):
        from books.signals import catalogue_imported
        from recommender.receivers import imported_books_infer

        catalogue_imported.connect(imported_books_infer, dispatch_uid="recommender.imported_books_infer")
