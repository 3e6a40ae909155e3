"""The ceiling: a bare Flask app that parses the JSON body and answers 204, under the same gunicorn settings."""

from flask import Flask
from flask import request

app = Flask(__name__)


@app.post("/v1/events")
@app.post("/user-interactions")
@app.post("/segment/v1/batch")
@app.post("/v1/data/<name>")
def accept(name: str | None = None):
    """Parse the body as the collector must, and answer 204."""
    request.get_json(force=True)
    return "", 204


@app.get("/healthz")
def healthz():
    """Answer the readiness check the benchmark waits for."""
    return "", 200
