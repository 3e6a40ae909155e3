"""A body as every API reads it: gzip within a limit, JSON that every store can keep."""

from __future__ import annotations

import json
import math
import zlib

from ..errors import BadGzip
from ..errors import MalformedJson
from ..errors import PayloadTooLarge

#: Deepest nesting of objects and arrays accepted; events need a handful of levels, and deeper
#: documents would exhaust the recursion of every later step (validation, serialisation).
MAX_DEPTH = 32


def gunzip(data: bytes, limit: int) -> bytes:
    """Decompress a gzip body, stopping as soon as it would pass limit bytes (so a gzip bomb costs nothing)."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        raise BadGzip(f"The body is not valid gzip ({exc}).") from None
    if len(out) > limit:
        raise PayloadTooLarge(f"The decompressed body is over the limit of {limit} bytes.")
    if not inflater.eof:
        raise BadGzip("The gzip body is truncated.")
    return out


def _refuse_constant(name: str):
    """Refuse NaN and Infinity, which are not JSON."""
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    """Parse a JSON number, refusing one too large for a float (1e999 would be stored as Infinity)."""
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"the number {text[:30]} is out of range")
    return value


def parse_json(data: bytes):
    """Parse UTF-8 JSON, answering 400 with the position of the first mistake."""
    if not data.strip():
        raise MalformedJson("The body is empty; send a JSON object.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MalformedJson(f"The body is not valid UTF-8 (byte {exc.start}).") from None
    return parse_text(text)


def parse_text(text: str):
    """Parse JSON text (a body, or a line of an imported file), refusing what no store can keep."""
    try:
        document = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except json.JSONDecodeError as exc:
        raise MalformedJson(f"Malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}.") from None
    except (ValueError, RecursionError) as exc:
        raise MalformedJson(f"Malformed JSON: {exc}.") from None
    # JSON can carry a NUL only as the escape \u0000 (a raw control character is refused above), so
    # a body without that text needs no search for one: the common case walks the containers alone.
    problem = shape_problem(document, MAX_DEPTH, nul="\\u0000" in text)
    if problem:
        raise MalformedJson(f"The JSON {problem}.")
    return document


def shape_problem(document, limit: int = MAX_DEPTH, nul: bool = True) -> str | None:
    """Find nesting deeper than limit levels, or (when `nul`) a NUL character, which no database stores,
    without recursing (also for an imported CSV row's item)."""
    pending = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            if nul and any("\x00" in k for k in value):
                return "has a NUL character (\\u0000) in a key"
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            children = (value,) if depth == 1 else ()
        for child in children:
            if isinstance(child, str):
                if nul and "\x00" in child:
                    return "has a NUL character (\\u0000) in a string"
            elif isinstance(child, (dict, list)):
                if depth + 1 > limit:
                    return f"is nested deeper than {limit} levels"
                pending.append((child, depth + 1))
    return None
