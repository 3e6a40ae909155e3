"""The rows of an uploaded file: gzip or not, UTF-8 (a byte-order mark is dropped), CSV or NDJSON, read
as a stream in constant memory whatever the file's size.

A row's number counts the file's data rows from 1 (a CSV header and blank lines are not rows); its line
is where it starts in the file. What makes the whole file unreadable (not UTF-8, damaged gzip, broken
CSV quoting, a header the kind cannot read) is a FileProblem; what is wrong with one row (a JSON line
that does not parse, more cells than the header) is that row's error, and the other rows go on.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import zlib
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from ..errors import ApiError
from ..errors import BadRequest
from ..errors import MalformedJson
from ..ingest.body import parse_text
from .cells import Columns
from .cells import HeaderProblem

FORMATS = ("csv", "ndjson")
#: What a file name's extension says of its format (after a .gz is taken off).
_EXTENSIONS = {".csv": "csv", ".ndjson": "ndjson", ".jsonl": "ndjson", ".json": "ndjson"}
#: The longest CSV cell or NDJSON line read, in characters: far beyond any valid event or record.
MAX_ROW_CHARS = 1 << 20
csv.field_size_limit(max(csv.field_size_limit(), MAX_ROW_CHARS))


#: Characters a job's reason writes as escapes: control characters other than tab and newline.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class FileProblem(Exception):
    """The file cannot be read as the job says (its message is the job's reason for failing)."""

    def __init__(self, message: str):
        """The message, which may quote the file, with its control characters written as escapes (`\\x00`):
        a reason is text for people, and PostgreSQL's text holds no NUL."""
        super().__init__(_CONTROL.sub(lambda found: repr(found[0])[1:-1], message))


class RowTooLong(BadRequest):
    """A row longer than MAX_ROW_CHARS."""

    code = "row_too_long"


class BadRow(BadRequest):
    """A CSV row that does not fit the header."""

    code = "bad_row"


@dataclass
class Row:
    """One data row of a file: where it is, what it holds, and its text as the error file shows it."""

    number: int
    line: int
    #: A CSV row's cells, or an NDJSON row's line.
    cells: list[str] | None = None
    line_text: str | None = None
    #: The object it makes (None when `error` says why it makes none).
    item: dict | None = None
    error: ApiError | None = None

    @property
    def text(self) -> str:
        """The row as the file had it (a CSV row written back as one line of CSV): made only when asked,
        for a refused row."""
        return self.line_text if self.line_text is not None else _csv_text(self.cells or [])


def format_of(declared: str | None, file_name: str, head: bytes) -> str:
    """The file's format: as declared, else from its name's extension, else from its first character."""
    if declared:
        return declared
    name = file_name.lower().removesuffix(".gz")
    for extension, found in _EXTENSIONS.items():
        if name.endswith(extension):
            return found
    text = head.decode("utf-8-sig", "ignore").lstrip()
    return "ndjson" if text.startswith("{") else "csv"


def _text_problem(exc: Exception, line: int) -> FileProblem:
    """The FileProblem of an error met while decoding the file's bytes."""
    if isinstance(exc, UnicodeDecodeError):
        return FileProblem(f"The file is not UTF-8 text (near line {line}): save it as UTF-8 and upload it again.")
    return FileProblem(f"The gzip data is damaged or cut short (near line {line}): {exc}.")


_DECODING = (UnicodeDecodeError, gzip.BadGzipFile, EOFError, zlib.error)

#: Makes the items of a CSV file from its header: the kind's columns (or Capillary's positional layout).
Layout = Callable[[list[str]], "CsvLayout"]


class CsvLayout:
    """How a CSV file's rows become items, decided by its first row."""

    #: Whether the first row is a header (else it is the first data row).
    first_row_is_header = True

    def item(self, cells: list[str]) -> dict:
        """The item a row's cells make."""
        raise NotImplementedError


class NamedColumns(CsvLayout):
    """Columns named by the header, read into the kind's schema (cells.Columns)."""

    def __init__(self, columns: Columns, width: int):
        """Keep the plan and the header's width."""
        self.columns, self.width = columns, width

    def item(self, cells: list[str]) -> dict:
        """The row's object; BadRow when it has more cells than the header."""
        if len(cells) > self.width and any(cell.strip() for cell in cells[self.width:]):
            raise BadRow(f"The row has {len(cells)} cells; the header has {self.width}.")
        return self.columns.item(cells)


def named(schema, required: tuple[tuple[str, ...], ...]) -> Layout:
    """The layout of a CSV file whose header names the schema's fields; `required` lists groups of
    columns of which each must have one (`("user",)`: a user column or user.* columns)."""
    def layout(header: list[str]) -> CsvLayout:
        """The layout a file with this header is read with, or FileProblem saying what the header lacks."""
        try:
            columns = Columns(schema, header)
        except HeaderProblem as exc:
            raise FileProblem(f"The header cannot be read: {exc}") from None
        for group in required:
            if not any(columns.has(name) for name in group):
                raise FileProblem(f"The header has no {' or '.join(repr(n) for n in group)} column, which every "
                                  f"row needs. The header is: {', '.join(columns.header)}.")
        return NamedColumns(columns, len(header))
    return layout


def _csv_text(cells: list[str]) -> str:
    """A CSV row written back as one line of CSV (the error file's copy of it)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(cells)
    return out.getvalue()


def _csv_rows(text: io.TextIOWrapper, layout: Layout, items: bool, skip: int) -> Iterator[Row]:
    """A CSV file's rows, the first non-blank row deciding the layout."""
    reader = csv.reader(text, strict=True)
    chosen: CsvLayout | None = None
    number, line = 0, 1
    while True:
        try:
            cells = next(reader, None)
        except csv.Error as exc:
            raise FileProblem(f"The file is not valid CSV at line {reader.line_num}: {exc}.") from None
        except _DECODING as exc:
            raise _text_problem(exc, reader.line_num) from None
        if cells is None:
            break
        start, line = line, reader.line_num + 1
        if not any(cell.strip() for cell in cells):
            continue
        if chosen is None:
            chosen = layout(cells)
            if chosen.first_row_is_header:
                continue
        number += 1
        if number <= skip:
            continue
        row = Row(number, start, cells=cells)
        if items:
            try:
                row.item = chosen.item(cells)
            except ApiError as error:
                row.error = error
        yield row
    if chosen is None:
        raise FileProblem("The file is empty: it has no header and no rows.")


def _long_line(text: io.TextIOWrapper, start: str) -> int:
    """Skip the rest of a line longer than MAX_ROW_CHARS; its length in characters."""
    length = len(start)
    while not start.endswith("\n"):
        start = text.readline(MAX_ROW_CHARS)
        if not start:
            break
        length += len(start)
    return length


def _ndjson_rows(text: io.TextIOWrapper, items: bool, skip: int) -> Iterator[Row]:
    """An NDJSON file's rows: one JSON object per non-blank line."""
    number, line = 0, 0
    while True:
        try:
            read = text.readline(MAX_ROW_CHARS)
            line += 1
            if len(read) >= MAX_ROW_CHARS and not read.endswith("\n"):
                size = _long_line(text, read)
                number += 1
                if number > skip:
                    yield Row(number, line, line_text=read[:1000], error=RowTooLong(
                        f"The line is {size} characters long; the longest read is {MAX_ROW_CHARS}."))
                continue
        except _DECODING as exc:
            raise _text_problem(exc, line) from None
        if not read:
            return
        if not read.strip():
            continue
        number += 1
        if number <= skip:
            continue
        row = Row(number, line, line_text=read.rstrip("\r\n"))
        if items:
            try:
                document = parse_text(row.text)
                if not isinstance(document, dict):
                    raise MalformedJson("A line must hold one JSON object.")
                row.item = document
            except ApiError as error:
                row.error = error
        yield row


class Source:
    """A stored file opened for one pass: gunzipped when it is gzip, its format known, its text UTF-8."""

    def __init__(self, binary: BinaryIO, declared: str | None, file_name: str):
        """Open the layers; FileProblem when even the start of the file cannot be read."""
        buffered = binary if isinstance(binary, io.BufferedReader) else io.BufferedReader(binary, 1 << 16)
        try:
            if buffered.peek(2)[:2] == b"\x1f\x8b":
                buffered = io.BufferedReader(gzip.GzipFile(fileobj=buffered, mode="rb"), 1 << 16)
            head = buffered.peek(4096)
        except _DECODING as exc:
            raise _text_problem(exc, 1) from None
        self.format = format_of(declared, file_name, head)
        # Newlines as written: the csv module reads quoted line breaks itself.
        self.text = io.TextIOWrapper(buffered, encoding="utf-8-sig", newline="")

    def __enter__(self) -> Source:
        """Use it in a with block: its layers are closed at the end, however the pass ends."""
        return self

    def __exit__(self, *exc) -> None:
        """Close the text and the layers under it."""
        self.text.close()

    def rows(self, layout: Layout, items: bool = True, skip: int = 0) -> Iterator[Row]:
        """The file's rows after the first `skip`, in order; without `items`, only where each is (a first
        pass that counts them and finds what makes the file unreadable, before anything is stored)."""
        found = _csv_rows(self.text, layout, items, skip) if self.format == "csv" else \
            _ndjson_rows(self.text, items, skip)
        yield from found
