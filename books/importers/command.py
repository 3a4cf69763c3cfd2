"""What the import commands share: the --skip-invalid/--report options and turning problems into CommandError."""
from __future__ import annotations

import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from books.importers.problems import InvalidImport, Problem, format_problems
from books.importers.report import ImportReport
from books.importers.wording import counted


class ImportCommand(BaseCommand):
    """A command that runs one importer; subclasses implement ``run_import(options, progress)``."""

    def add_arguments(self, parser):
        parser.add_argument("--skip-invalid", action="store_true",
                            help="Import the good lines, skip the bad ones and list them at the end.")
        parser.add_argument("--report", type=Path, metavar="FILE",
                            help="Also write every invalid line (file:line: reason) to FILE.")
        parser.add_argument("--batch-size", type=int, default=2000, help="Books written per batch (default 2000).")

    def handle(self, *args, **options):
        progress = self.stderr._out if options["verbosity"] > 0 else None
        if options["report"] is not None:
            _check_writable(options["report"])
        try:
            report = self.run_import(options, progress)
        except InvalidImport as invalid:
            self._write_report(options["report"], invalid.problems)
            hint = "" if invalid.whole_input else " (--skip-invalid imports the valid lines)"
            problems = counted(len(invalid.problems), "problem")
            raise CommandError(f"Nothing was imported: {problems} in the input{hint}.\n"
                               f"{format_problems(invalid.problems)}") from None
        self._write_report(options["report"], report.problems)
        self.stdout.write(report.summary())

    def run_import(self, options, progress) -> ImportReport:
        raise NotImplementedError

    def _write_report(self, path: Path | None, problems: list[Problem]) -> None:
        if path is None:
            return
        try:
            path.write_text("".join(f"{problem}\n" for problem in problems), encoding="utf-8")
        except OSError as error:
            self.stderr.write(f"Could not write the report to {path}: {error.strerror}.")


def _check_writable(path: Path) -> None:
    """Refuse a report path that cannot be written, before anything is imported."""
    folder = path.parent
    if path.is_dir():
        raise CommandError(f"--report {path}: a folder, not a file.")
    if not folder.is_dir():
        raise CommandError(f"--report {path}: no folder {folder}.")
    if not os.access(path if path.exists() else folder, os.W_OK):
        raise CommandError(f"--report {path}: not writable.")
