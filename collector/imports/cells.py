"""A CSV file's cells turned into the object its API's schema reads, planned once per header.

Column names are the schema's field names; a dotted name nests (`user.anonymous_id`, `event.type`), and
a cell under an object or a list field (`event.cart`, `user.profile`, or `user` whole) is JSON. A cell
is read by the type of the field it fills: integers and epoch timestamps as numbers, booleans from
true/false/1/0/yes/no, everything else as text for the schema to check. An empty cell is absent: CSV
cannot tell an empty string from no value. Cells and names are trimmed of surrounding spaces.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from marshmallow import INCLUDE
from marshmallow import Schema
from marshmallow import fields

from ..errors import MalformedJson
from ..ingest.body import shape_problem
from ..schemas.common import Timestamp
from ..schemas.datacue import EVENT_TYPES
from ..schemas.datacue import TypedEvent

_INTEGER = re.compile(r"[+-]?[0-9]+")
_TRUE, _FALSE = {"true", "1", "yes", "y"}, {"false", "0", "no", "n"}


class HeaderProblem(ValueError):
    """A header the schema cannot read (its message says which column and why)."""


def _json(cell: str):
    """A JSON cell, or the text itself when it is not JSON (the schema then says what it should be); as in
    a JSON body, no NUL and no endless nesting (MalformedJson)."""
    try:
        value = json.loads(cell)
    except (ValueError, RecursionError):
        return cell
    problem = shape_problem(value, nul="\\u0000" in cell)
    if problem:
        raise MalformedJson(f"A JSON cell {problem}.")
    return value


def _integer(cell: str):
    """An integer cell as a number; anything else as text, for the schema to refuse."""
    return int(cell) if _INTEGER.fullmatch(cell) else cell


def _boolean(cell: str):
    """true/false, 1/0, yes/no (any case) as a boolean; anything else as text, for the schema to refuse."""
    lowered = cell.lower()
    return True if lowered in _TRUE else False if lowered in _FALSE else cell


def _text(cell: str) -> str:
    """A cell as it is."""
    return cell


def _extra(cell: str):
    """A field the schema does not declare (kept with the item): an object or a list when the cell is one."""
    return _json(cell) if cell[:1] in "{[" else cell


def _reader(field: fields.Field | None) -> Callable[[str], object]:
    """How a cell is read for this field."""
    if field is None:
        return _extra
    if isinstance(field, (fields.Nested, fields.List, fields.Dict, TypedEvent)):
        return _json
    if isinstance(field, fields.Boolean):
        return _boolean
    if isinstance(field, (fields.Integer, Timestamp)):  # a timestamp may be epoch seconds or milliseconds
        return _integer
    return _text


#: A DataCue event's fields, whatever its type: no two types give one name two meanings.
_EVENT_FIELDS: dict[str, fields.Field] = {}
for _subtypes in EVENT_TYPES.values():
    for _schema in _subtypes.values():
        for _name, _field in _schema.fields.items():
            _EVENT_FIELDS.setdefault(_name, _field)


def _children(field: fields.Field | None) -> tuple[dict[str, fields.Field], bool] | None:
    """The fields under an object field, and whether it keeps undeclared ones; None for other fields."""
    if isinstance(field, fields.Nested):
        return field.schema.fields, field.schema.unknown == INCLUDE
    if isinstance(field, TypedEvent):
        return _EVENT_FIELDS, True
    if field is None or isinstance(field, fields.Dict):  # a free-form object, or an undeclared field
        return {}, True
    return None


def trimmed(cell: str) -> str:
    """A cell without surrounding spaces; MalformedJson when it holds a NUL, which no database stores (a JSON
    body cannot carry one either)."""
    if "\x00" in cell:
        raise MalformedJson("The row has a NUL character (\\u0000) in a cell.")
    return cell.strip()


class Columns:
    """How the cells of one file's rows become items: each column's place in the item and its reader."""

    def __init__(self, schema: Schema, header: list[str]):
        """Plan every column of the header; HeaderProblem when one cannot be read into the schema."""
        self.header = [name.strip() for name in header]
        self.plan: list[tuple[int, tuple[str, ...], Callable[[str], object]]] = []
        seen: dict[str, int] = {}
        for index, name in enumerate(self.header):
            if not name:
                raise HeaderProblem(f"Column {index + 1} of the header has no name.")
            if name in seen:
                raise HeaderProblem(f"The column {name!r} appears twice in the header.")
            seen[name] = index
            self.plan.append((index, tuple(name.split(".")), self._resolve(schema, name)))
        for name in seen:
            parent = name.rpartition(".")[0]
            while parent:
                if parent in seen:
                    raise HeaderProblem(f"The columns {parent!r} and {name!r} both give {parent}: use one "
                                        f"JSON cell or dotted columns, not both.")
                parent = parent.rpartition(".")[0]

    @staticmethod
    def _resolve(schema: Schema, name: str) -> Callable[[str], object]:
        """The reader of a column, found by walking the schema along its dotted name."""
        declared, keeps = schema.fields, schema.unknown == INCLUDE
        parts = name.split(".")
        field = None
        for depth, part in enumerate(parts):
            field = declared.get(part)
            if field is None and not keeps:
                where = ".".join(parts[:depth])
                raise HeaderProblem(f"Unknown column {name!r}: {'the fields of ' + where if where else 'the columns'} "
                                    f"are {', '.join(sorted(declared))}.")
            if depth < len(parts) - 1:
                below = _children(field)
                if below is None:
                    raise HeaderProblem(f"The column {name!r} nests under {'.'.join(parts[:depth + 1])}, "
                                        "which is not an object.")
                declared, keeps = below
        return _reader(field)

    def has(self, name: str) -> bool:
        """Whether the header gives the field `name`: as its own column, or as dotted columns under it."""
        return any(column == name or column.startswith(name + ".") for column in self.header)

    def item(self, cells: list[str]) -> dict:
        """The object a row's cells make (cells past the header's end are the caller's to refuse)."""
        item: dict = {}
        for index, path, read in self.plan:
            if index >= len(cells):
                break
            cell = trimmed(cells[index])
            if not cell:
                continue
            target = item
            for part in path[:-1]:
                target = target.setdefault(part, {})
            target[path[-1]] = read(cell)
        return item
