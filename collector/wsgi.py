"""The WSGI entry point for servers: `gunicorn collector.wsgi:app` (what gunicorn_config.py names)."""

from . import create_app
from .web import tracker

app = create_app()
# Minify and compress the tracker now rather than on the first request for /t.js.
tracker.built()
