"""The request's address: a path or query string holding a NUL character (%00) is refused before any
view reads it, since no database stores one (PostgreSQL refuses it in every text value)."""

from __future__ import annotations

from flask import Flask
from flask import request

from ..errors import BadParameter


def init_app(app: Flask) -> None:
    """Refuse (400) a request whose path or query string holds a NUL character."""

    @app.before_request
    def refuse_nul():
        """Refuse a path or query parameter holding a NUL character before any view."""
        if "\x00" in request.path or any("\x00" in k or "\x00" in v for k, v in request.args.items(multi=True)):
            raise BadParameter("The address holds a NUL character (%00), which no path or parameter may hold.")
