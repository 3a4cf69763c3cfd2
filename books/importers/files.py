"""Reading an import's input files: UTF-8 text line by line (gzip read transparently) and CSV rows with a header,
every unreadable line a ``Problem`` naming its file and line."""
from __future__ import annotations

import codecs
import csv
import gzip
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

from books.importers.checks import check_text
from books.importers.problems import BadLine, InvalidImport, Problem, ProblemLog


def numbered_lines(path: Path, problems: ProblemLog, *, display_name: str) -> Iterator[tuple[int, str, bool]]:
    """Yield ``(line number, text, ends with a newline)`` for each line of a UTF-8 text file (gzip read transparently).

    A byte order mark at the start (as Excel saves) is left out. A line that is not UTF-8 becomes a problem and is
    not yielded; a corrupt or cut-off gzip stream is fatal.
    """
    opener = gzip.open if _is_gzip(path) else open
    number = 0
    try:
        with opener(path, "rb") as handle:
            for number, raw in enumerate(handle, start=1):
                if number == 1:
                    raw = raw.removeprefix(codecs.BOM_UTF8)
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as error:
                    problems.add(Problem(display_name, number, f"not UTF-8 text (byte 0x{raw[error.start]:02x} "
                                                               f"at column {error.start + 1})"))
                    continue
                yield number, text, text.endswith("\n")
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        raise problems.fatal(Problem(display_name, number + 1, f"the gzip file is truncated or corrupt ({error})")) from error


def require_file(path: Path, *, display_name: str) -> None:
    """Raise ``InvalidImport`` if ``path`` is not a readable file."""
    if path.is_dir():
        raise InvalidImport([Problem(display_name, None, "a folder, not a file")], whole_input=True)
    if not path.is_file():
        raise InvalidImport([Problem(display_name, None, "no such file")], whole_input=True)


def csv_records(path: Path, problems: ProblemLog, *, display_name: str, required_columns: tuple[str, ...],
                on_invalid: Callable[[int, dict[str, str]], None] | None = None) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield ``(line number, {column: value})`` for each row of a UTF-8 CSV file with a header.

    A missing required column, or a header that ``check_text`` refuses, is fatal; a row with too few or too many
    values, or a value that ``check_text`` refuses, becomes a problem naming the first missing column or the column
    at fault (a cut-off last row reads as truncation), and is passed with the values it has to ``on_invalid``.
    """
    state = {"start": None, "complete": True}

    def lines():
        for number, text, complete in numbered_lines(path, problems, display_name=display_name):
            if state["start"] is None:
                state["start"] = number
            state["complete"] = complete
            yield text

    reader = csv.reader(lines())
    try:
        header = next(reader)
    except StopIteration:
        raise problems.fatal(Problem(display_name, 1, "the file is empty (expected a header row)")) from None
    except csv.Error as error:
        raise problems.fatal(Problem(display_name, 1, f"unreadable header row ({error})")) from None
    header = [column.strip() for column in header]
    for index, column in enumerate(header, start=1):
        try:
            check_text(column, field=None)  # the column's name is at fault: it is named by its place
        except BadLine as bad:
            raise problems.fatal(Problem(display_name, 1, f"column {index} of the header {bad.message}")) from None
    for column in required_columns:
        if column not in header:
            raise problems.fatal(Problem(display_name, 1, f"missing required column (header: {','.join(header)})",
                                         column))
    state["start"] = None
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            problems.add(Problem(display_name, state["start"], f"unreadable CSV row ({error})"))
            state["start"] = None
            continue
        number, state["start"] = state["start"], None
        if not values:
            continue
        row = dict(zip(header, values))
        try:
            if len(values) < len(header):
                cut = "; the file ends in the middle of this row (truncated?)" if not state["complete"] else ""
                raise BadLine(f"missing: the row has {len(values)} of {len(header)} columns{cut}", header[len(values)])
            if len(values) > len(header):
                raise BadLine(f"the row has {len(values)} values for {len(header)} columns")
            for column, value in row.items():
                check_text(value, column)
        except BadLine as bad:
            problems.add(Problem(display_name, number, bad.message, bad.field))
            if on_invalid is not None:
                on_invalid(number, row)
            continue
        yield number, row


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(2) == b"\x1f\x8b"
