"""A fast stand-in upstream for the forwarding benchmark: answers every POST 204 after reading it."""


def app(environ, start_response):
    """Read the body and answer 204."""
    environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    start_response("204 No Content", [])
    return [b""]
