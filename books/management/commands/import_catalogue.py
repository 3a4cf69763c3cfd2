from pathlib import Path

from books.importers.command import ImportCommand
from books.importers.generic import generic_import


class Command(ImportCommand):
    help = ("Import a catalogue in the generic format (CSV with a header, or JSON Lines; .gz read transparently): id, "
            "title, authors with roles, identifiers, subjects, wikilinks, year, language, description, cover_url. "
            "Re-running updates; a book the catalogue has from another source is merged into.")

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, metavar="FILE.csv|FILE.jsonl")
        super().add_arguments(parser)

    def run_import(self, options, progress):
        return generic_import(path=options["file"], skip_invalid=options["skip_invalid"],
                              batch_size=options["batch_size"], progress=progress)
