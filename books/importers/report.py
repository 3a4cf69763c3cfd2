"""What an import did (``ImportReport``), how long each phase took, and the progress bar it shows."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from tqdm import tqdm

from books.importers.problems import Problem, format_problems
from books.importers.wording import counted


@dataclass
class ImportReport:
    """What an import did: rows written, lines skipped (with why), and how long each phase took."""

    books_created: int = 0
    books_updated: int = 0
    books_merged: int = 0
    """Records merged for the first time into a book another source gave (``BookMerge``)."""
    links_created: int = 0
    book_links: int = 0
    users_created: int = 0
    shelf_entries: int = 0
    not_books: int = 0
    problems: list[Problem] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    rates: dict[str, float] = field(default_factory=dict)
    afterwards: list[str] = field(default_factory=list)
    """What the receivers of ``books.signals.catalogue_imported`` did with the import, one line each."""

    @property
    def books(self) -> int:
        return self.books_created + self.books_updated + self.books_merged

    def summary(self) -> str:
        parts = [
            f"{counted(self.books, 'book')} ({self.books_created:,} new, {self.books_updated:,} updated"
            + (f", {self.books_merged:,} merged into books of another source)" if self.books_merged else ")"),
            counted(self.links_created, "new link"),
            counted(self.book_links, "book link"),
        ]
        if self.users_created or self.shelf_entries:
            parts += [counted(self.users_created, "new reader"),
                      counted(self.shelf_entries, "shelf entry", "shelf entries")]
        phases = ", ".join(f"{phase} {seconds:.1f}" for phase, seconds in self.seconds.items())
        text = "Imported " + ", ".join(parts) + f" in {sum(self.seconds.values()):.1f} s [{phases}]"
        if self.rates:
            text += " (" + ", ".join(f"{value:,.0f} {name}/s" for name, value in self.rates.items()) + ")"
        text += "."
        if self.not_books:
            text += f" Left out {counted(self.not_books, 'page that is not a book', 'pages that are not books')}."
        if self.problems:
            text += f"\nSkipped {counted(len(self.problems), 'invalid line')}:\n" + format_problems(self.problems)
        return "\n".join([text, *self.afterwards])


class Stopwatch:
    """Times named phases into ``report.seconds``."""

    def __init__(self, report: ImportReport):
        self.report = report

    def __call__(self, phase: str):
        return _Phase(self.report, phase)


class _Phase:
    def __init__(self, report: ImportReport, phase: str):
        self.report, self.phase = report, phase

    def __enter__(self):
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc_info):
        self.elapsed = time.perf_counter() - self.started
        self.report.seconds[self.phase] = self.report.seconds.get(self.phase, 0.0) + self.elapsed


def progress_bar(*, total: int, unit: str, description: str, stream) -> tqdm:
    """A tqdm bar with counts and rate on ``stream`` (stderr), silent when ``stream`` is None."""
    return tqdm(total=total, unit=unit, unit_scale=True, desc=description, file=stream, disable=stream is None,
                dynamic_ncols=True, leave=True)
