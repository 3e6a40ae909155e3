"""The WSGI entry point for servers: `gunicorn collector.wsgi:app` (what gunicorn_config.py names)."""

from . import create_app
from .web.scripts import FILES

app = create_app()
# Minify and compress the tracker and the widget files now rather than on the first request for each.
for _file in FILES.values():
    _file.built()
