from pathlib import Path

from books.importers.command import ImportCommand
from books.importers.wikipedia import wikipedia_books_import


class Command(ImportCommand):
    help = ("Import Wikipedia book articles from an ndjson dump (one JSON array a line: title, infobox, wikilinks, "
            "external links, last edit, article length; .gz read transparently). Re-running updates.")

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, metavar="FILE.ndjson")
        super().add_arguments(parser)

    def run_import(self, options, progress):
        return wikipedia_books_import(path=options["file"], skip_invalid=options["skip_invalid"],
                                      batch_size=options["batch_size"], progress=progress)
