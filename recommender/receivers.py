"""The embeddings' reactions to the catalogue's signals: books an import added get a vector in the live version."""
from books.importers.wording import counted
from recommender.services.inference import book_vectors_infer


def imported_books_infer(sender, *, report, **kwargs) -> None:
    """Give every book lacking a vector in the active version one inferred from its links and shelves, until the
    next training run replaces it; say how many in ``report.afterwards``. Receives ``catalogue_imported``."""
    inferred = book_vectors_infer()
    if inferred:
        report.afterwards.append(f"{counted(len(inferred), 'new book')} got a vector inferred from links and shelves; "
                                 "the next training run replaces it.")
