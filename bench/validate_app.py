"""The reference rung: parse the body and validate every event (or record) with the collector's own
marshmallow schemas, plain (never the compiled copies the collector loads with: schemas/compiled.py), store
nothing, answer 204, under the same gunicorn settings as the bare app and the collector.

It measures how much of the bare endpoint's rate validation alone leaves: the collector's targets are shares
of this rung's rate.
"""

from flask import Flask
from flask import request
from marshmallow import ValidationError

from collector.reference.record_types import get
from collector.schemas import cobi
from collector.schemas import cobi_data  # noqa: F401 (registers the Data API's record types)
from collector.schemas import datacue
from collector.schemas import segment

app = Flask(__name__)


def _validate(item_schema, items: list) -> tuple[str, int]:
    """Validate each item as the collector does; answer 204 or 400."""
    try:
        for item in items:
            item_schema.load(item)  # load, not validate: validate skips the post_load checks
    except ValidationError:
        return "", 400
    return "", 204


def _items(batch_schema, batch_field: str) -> list:
    """The request's events: a batch's (its own fields validated), or the body as one event."""
    document = request.get_json(force=True)
    return batch_schema.load(document)[batch_field] if batch_field in document else [document]


@app.post("/v1/events")
def events():
    """DataCue events."""
    return _validate(datacue.EVENT, _items(datacue.BATCH, "events"))


@app.post("/user-interactions")
def interactions():
    """Cobi interactions."""
    return _validate(cobi.RECORD, _items(cobi.BATCH, "records"))


@app.post("/segment/v1/batch")
def segment_batch():
    """Segment's batches (the batch's own fields are read leniently by the collector: only the messages)."""
    return _validate(segment.MESSAGE, request.get_json(force=True)["batch"])


@app.post("/v1/data/<name>")
def records(name: str):
    """Cobi's Data API: each record against its type's schema."""
    return _validate(get(name).schema, request.get_json(force=True)["records"])


@app.get("/healthz")
def healthz():
    """Answer the readiness check the benchmark waits for."""
    return "", 200
