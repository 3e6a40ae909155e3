"""The answer contract every endpoint keeps, whatever it is sent, and the API families held to it."""

from __future__ import annotations

#: Every family of routes the collector answers, by the blueprint its routes belong to, and the tests that
#: send it whatever a client could (`check_answer` on each answer). A blueprint missing here fails
#: `test_every_blueprint_is_held_to_the_contract` (test_hostile_more.py): a new API family registers here,
#: and in the long fuzz run's families.
FAMILIES = {
    "datacue": "DataCue's browser events: test_fuzz_long (events), test_hostile_input",
    "cobi": "Cobi's interactions: test_fuzz_long (interactions), test_hostile_input",
    "cobi_data": "Cobi's Data API: test_fuzz_long (data), test_hostile_input",
    "datacue_backend": "DataCue's backend API: test_fuzz_long (backend, backend_one), test_hostile_input",
    "imports": "import jobs: test_fuzz_long (imports), test_imports_fuzz",
    "capillary": "Capillary's coupon upload: test_fuzz_long (capillary)",
    "segment": "Segment's and RudderStack's tracking API: test_fuzz_long (segment)",
    "reports": "the reports API and export: test_fuzz_long (reports, export), test_hostile_more",
    "metrics": "/metrics: test_fuzz_long (metrics)",
    "health": "/healthz, /readyz, /openapi.json: test_hostile_more",
    "dashboard": "the dashboard's pages and forms: test_hostile_more",
    "static_files": "the tracker and the demo shop: test_hostile_more",
}


def check_answer(response, pages: bool = False) -> None:
    """Assert the contract: no 5xx, and every error in the JSON shape (with `pages`, an HTML page's error
    may be a page)."""
    assert response.status_code < 500, response.get_data(as_text=True)[:2000]
    if response.status_code >= 400 and not (pages and response.mimetype == "text/html"):
        body = response.json
        assert isinstance(body["code"], str) and isinstance(body["message"], str)
