from pathlib import Path

from books.importers.command import ImportCommand
from books.importers.goodbooks import goodbooks_import


class Command(ImportCommand):
    help = ("Import a goodbooks-10k folder: books.csv, tags.csv, book_tags.csv and, if present, to_read.csv and "
            "ratings.csv (readers become unclaimed users with shelves). Re-running updates.")

    def add_arguments(self, parser):
        parser.add_argument("folder", type=Path, metavar="DIR")
        super().add_arguments(parser)

    def run_import(self, options, progress):
        return goodbooks_import(folder=options["folder"], skip_invalid=options["skip_invalid"],
                                batch_size=options["batch_size"], progress=progress)
