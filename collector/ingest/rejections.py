"""What is kept of refused input, whatever refused it (a request, a batch item, a record, an imported
row): the `rejected` row with the reason and the body, bounded, and validation messages as one sentence."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from marshmallow import Schema
from marshmallow import ValidationError

from ..clock import iso
from ..clock import utcnow
from ..errors import ApiError
from .rows import stored_ip


def describe(messages, prefix: str = "") -> list[str]:
    """Flatten marshmallow's nested messages into 'path: message' lines."""
    if isinstance(messages, dict):
        lines = []
        for field, inner in messages.items():
            path = prefix if field == "_schema" else (f"{prefix}.{field}" if prefix else str(field))
            lines.extend(describe(inner, path))
        return lines
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [f"{prefix}: {m}" if prefix else m for m in messages]
    if isinstance(messages, list):
        return [line for m in messages for line in describe(m, prefix)]
    return [f"{prefix}: {messages}" if prefix else str(messages)]


def summary(messages, limit: int = 3) -> str:
    """Return the first few validation problems as one sentence."""
    lines = describe(messages)
    text = "; ".join(line.rstrip(".") for line in lines[:limit])
    if len(lines) > limit:
        text += f"; and {len(lines) - limit} more"
    return text


def validated(schema: Schema, document, error: type[ApiError], what: str):
    """`schema.load(document)`, or `error` saying "`what`: the first problems." with every field's messages."""
    try:
        return schema.load(document)
    except ValidationError as exc:
        raise error(f"{what}: {summary(exc.messages)}.", errors=exc.messages) from None


@dataclass(frozen=True)
class Client:
    """Who sent a request, as far as its events may record it: the address, the user agent, the language
    (an import job has none: `Client()`)."""

    ip: str | None = None
    user_agent: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class Refusals:
    """How refused input is kept: the body bounded to REJECTED_RAW_MAX_BYTES, the client's address as the
    IP settings allow."""

    raw_max: int
    privacy: tuple[str, int, int]
    client: Client = Client()

    @classmethod
    def of(cls, settings: Mapping, client: Client = Client()) -> Refusals:
        """The rules the settings give, for input from `client`."""
        return cls(settings["REJECTED_RAW_MAX_BYTES"],
                   (settings["IP_STORAGE"], settings["IPV4_PREFIX"], settings["IPV6_PREFIX"]), client)

    def row(self, key_row: dict, source: str, error: ApiError, raw: bytes | str | None, event_id=None,
            size: int | None = None, received_at=None, job_id: int | None = None,
            row_no: int | None = None) -> dict:
        """The `rejected` row of something refused from a valid key: the reason and the body, bounded.

        Refused in a request, the row names its client; refused in an import job, the job and the file's
        row (`raw` None keeps the reason alone: a forgotten person's row).
        """
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "replace")
        return {
            "key": key_row["key"], "mode": key_row["mode"], "source": source,
            "event_id": event_id if isinstance(event_id, str) else None,
            "reason": error.code, "message": error.message,
            "errors": json.dumps(error.errors) if error.errors else None,
            # NUL cannot be stored in a text column (PostgreSQL refuses it): kept as U+FFFD.
            "raw": None if raw is None else raw[:self.raw_max].decode("utf-8", "replace").replace("\x00", "\ufffd"),
            "raw_bytes": (len(raw) if raw is not None else 0) if size is None else size,
            "ip": stored_ip(self.client.ip, *self.privacy), "user_agent": self.client.user_agent,
            "received_at": iso(received_at or utcnow()), "job_id": job_id, "row_no": row_no,
        }
