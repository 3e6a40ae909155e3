"""The middle rung: parse the body and validate every event with the collector's own marshmallow
schemas, store nothing, answer 204, under the same gunicorn settings as the bare app and the collector.

It measures how much of the bare endpoint's rate validation alone leaves (the throughput target assumed 81%).
"""

from flask import Flask
from flask import request
from marshmallow import ValidationError

from collector.schemas import cobi
from collector.schemas import datacue

app = Flask(__name__)


def _validate(item_schema, batch_schema, batch_field: str) -> tuple[str, int]:
    """Validate one event, or each event of a batch, as the collector does; answer 204 or 400."""
    document = request.get_json(force=True)
    items = batch_schema.load(document)[batch_field] if batch_field in document else [document]
    try:
        for item in items:
            item_schema.load(item)  # load, not validate: validate skips the post_load checks
    except ValidationError:
        return "", 400
    return "", 204


@app.post("/v1/events")
def events():
    """DataCue events."""
    return _validate(datacue.EVENT, datacue.BATCH, "events")


@app.post("/user-interactions")
def interactions():
    """Cobi interactions."""
    return _validate(cobi.RECORD, cobi.BATCH, "records")


@app.get("/healthz")
def healthz():
    """Answer the readiness check the benchmark waits for."""
    return "", 200
