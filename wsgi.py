"""The collector for WSGI servers, from a checkout: `gunicorn wsgi:app` (gunicorn also reads
gunicorn.conf.py here). An installed wheel has the same app at `collector.wsgi:app`."""

from collector.wsgi import app

__all__ = ["app"]
