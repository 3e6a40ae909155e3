"""Security headers on every HTML page the collector serves."""

from __future__ import annotations

from flask import Flask

#: Scripts, styles, images and requests from the collector's own origin only; no inline code.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def init_app(app: Flask) -> None:
    """Add CSP and friends to HTML responses, and nosniff to all."""

    @app.after_request
    def secure(response):
        """nosniff on every answer; the page headers (CSP and the rest) on an HTML one."""
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        # content_type is the raw header; mimetype would parse it on every ingest answer.
        if (response.content_type or "").startswith("text/html"):
            response.headers.setdefault("Content-Security-Policy", CSP)
            response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
            response.headers.setdefault("X-Frame-Options", "DENY")
        return response
