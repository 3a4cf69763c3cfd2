"""What is wrong with an import's input: one bad line (``BadLine`` while reading it, ``Problem`` once placed at
file:line), the log of an import's problems, and ``InvalidImport``, raised before anything is written.

An import happens in two phases. First the whole input is read and validated into plain records; every
bad line becomes a ``Problem``. If there are problems and the caller did not ask to skip invalid lines,
``InvalidImport`` is raised before anything touches the database (``books.importers.writing`` then writes in
one transaction).
"""
from __future__ import annotations

from dataclasses import dataclass

MAX_PROBLEMS_SHOWN = 20


class BadLine(ValueError):
    """Why one line cannot be imported, and which field is at fault."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field


@dataclass(frozen=True)
class Problem:
    """One bad line: ``data.ndjson:17: field "infobox": expected an object, got list``."""

    file: str
    line: int | None
    message: str
    field: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        what = f'field "{self.field}": {self.message}' if self.field else self.message
        return f"{where}: {what}"


class InvalidImport(Exception):
    """The input has problems and nothing was written; ``problems`` lists every one found. ``whole_input`` when
    the last of them makes the whole input unusable (no such file, a missing column, a corrupt file), so
    skipping bad lines cannot help."""

    def __init__(self, problems: list[Problem], *, whole_input: bool = False):
        self.problems = list(problems)
        self.whole_input = whole_input
        super().__init__(format_problems(self.problems))


def format_problems(problems: list[Problem], *, limit: int = MAX_PROBLEMS_SHOWN) -> str:
    """The first ``limit`` problems, one a line, and how many more there are."""
    lines = [str(problem) for problem in problems[:limit]]
    if len(problems) > limit:
        lines.append(f"... and {len(problems) - limit} more (--report FILE lists them all)")
    return "\n".join(lines)


class ProblemLog:
    """The problems found while reading one import's input; ``skip_invalid`` says whether they are fatal."""

    def __init__(self, *, skip_invalid: bool):
        self.skip_invalid = skip_invalid
        self.problems: list[Problem] = []

    def add(self, problem: Problem) -> None:
        self.problems.append(problem)

    def fatal(self, problem: Problem) -> InvalidImport:
        """A problem that makes the whole input unusable (a missing column, a corrupt file): stop now."""
        self.problems.append(problem)
        return InvalidImport(self.problems, whole_input=True)

    def raise_unless_skipping(self) -> None:
        if self.problems and not self.skip_invalid:
            raise InvalidImport(self.problems)
