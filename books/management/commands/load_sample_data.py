from django.core.management.base import BaseCommand

from books.importers.sample import GOODBOOKS_SAMPLE, WIKIPEDIA_SAMPLE, sample_data_load
from books.models import Book


class Command(BaseCommand):
    help = (f"Load the bundled sample ({WIKIPEDIA_SAMPLE.name}: 1,411 Wikipedia books; {GOODBOOKS_SAMPLE.name}/: "
            "1,100 goodbooks-10k books with tags and 2,500 readers' shelves) if the catalogue is empty.")

    def handle(self, *args, **options):
        progress = self.stderr._out if options["verbosity"] > 0 else None
        reports = sample_data_load(progress=progress)
        if reports is None:
            self.stdout.write(f"The catalogue already has {Book.objects.count():,} books; the sample was not loaded.")
            return
        for report in reports:
            self.stdout.write(report.summary())
