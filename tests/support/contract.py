"""The answer contract every endpoint keeps, whatever it is sent."""

from __future__ import annotations


def check_answer(response) -> None:
    """Assert the contract: no 5xx, and every error in the JSON shape."""
    assert response.status_code < 500, response.get_data(as_text=True)
    if response.status_code >= 400:
        body = response.json
        assert isinstance(body["code"], str) and isinstance(body["message"], str)
