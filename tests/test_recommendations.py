"""DataCue's answers to page views: each list's shape and rules, from the shop's own data, on both backends."""

from __future__ import annotations

import pytest

from collector.recommendations.upkeep import keep_up

from support.datacue_backend import send
from support.factories import basic
from support.factories import make_event
from support.factories import new_id
from support.factories import post_event

HOME = ("main_banners", "sub_banners", "related_product_skus", "recent_product_skus")
PRODUCT = ("similar_product_skus", "related_product_skus", "recent_product_skus")
PRODUCT_FIELDS = {"product_id", "variant_id", "name", "price", "photo_url", "link", "extra"}


def counted(storage) -> None:
    """Bring the recommendation tables up to date, as the worker's next pass does (without PostgreSQL's
    wait for rows still in flight: every row here was committed before)."""
    keep_up(storage, settle=0)


def catalogue(client, key, secret, products: list[dict]) -> None:
    """Send products through DataCue's backend API (one variant each unless given)."""
    body = {"type": "products", "batch": [{"product_id": p["product_id"], "variant_id": p.get("variant_id", "v1"),
                       "name": p.get("name", f"Product {p['product_id']}"), "price": p.get("price", 10),
                       "category_1": p.get("category_1", "misc"), "photo_url": f"/img/{p['product_id']}.jpg",
                       "link": f"/p/{p['product_id']}", **{k: v for k, v in p.items() if k not in ("price",)}}
                      for p in products]}
    response = send(client, key, secret, "POST", "/v1/batch", body)
    assert response.status_code == 200, response.get_data(as_text=True)


def view(client, key, product: str, visitor: str = "anon-1", **user) -> dict:
    """A product page view; its answer."""
    event = make_event("pageview", "product", product_id=product, user={"anonymous_id": visitor, **user})
    return post_event(client, key, event, status=200).get_json()


def home(client, key, visitor: str = "anon-1", **user) -> dict:
    """A home page view; its answer."""
    return post_event(client, key, make_event("pageview", "home", user={"anonymous_id": visitor, **user}),
                      status=200).get_json()


def order(client, key, products: list[str], visitor: str = "buyer") -> None:
    """A completed order of these products, from the browser."""
    post_event(client, key, make_event("order", "completed", order_id=new_id(), user={"anonymous_id": visitor},
                                       cart=[{"product_id": p, "quantity": 1, "unit_price": 5} for p in products]))


def ids(products: list[dict]) -> list[str]:
    """The product ids of a list."""
    return [p["product_id"] for p in products]


def test_a_product_page_view_is_answered_with_the_three_lists(client, storage, key, secret):
    catalogue(client, key, secret, [{"product_id": p} for p in ("p1", "p2", "p3")])
    counted(storage)
    answer = view(client, key, "p1")
    assert tuple(answer) == PRODUCT
    assert all(isinstance(answer[name], list) for name in PRODUCT)
    for product in answer["similar_product_skus"] + answer["related_product_skus"]:
        assert PRODUCT_FIELDS <= set(product) and product["category_1"] == "misc"
        assert product["product_id"] != "p1"


def test_a_home_page_view_is_answered_with_banners_and_products(client, storage, key, secret):
    home_answer = home(client, key)
    assert tuple(home_answer) == HOME
    assert home_answer == {name: [] for name in HOME}  # nothing known yet: empty lists, not an error


def test_other_events_and_batches_keep_their_answers(client, key):
    post_event(client, key, make_event("pageview", "category", category_id="c1"), status=204)
    post_event(client, key, make_event("click", "product", product_id="p1"), status=204)
    response = post_event(client, key, {"events": [make_event("pageview", "product", product_id="p1")]},
                          status=200)
    assert response.get_json()["stored"] == 1 and "similar_product_skus" not in response.get_json()


def test_recently_viewed_is_newest_first_distinct_fresh_and_without_the_page(client, storage, key, secret):
    catalogue(client, key, secret, [{"product_id": p} for p in ("p1", "p2", "p3", "p4")])
    counted(storage)
    for product in ("p1", "p2", "p1", "p3"):
        view(client, key, product)
    # No upkeep since: the list reads the views themselves.
    assert ids(view(client, key, "p4")["recent_product_skus"]) == ["p3", "p1", "p2"]
    assert ids(home(client, key)["recent_product_skus"]) == ["p4", "p3", "p1", "p2"]
    assert home(client, key, visitor="someone-else")["recent_product_skus"] == []


def test_an_identified_visitor_keeps_what_they_viewed_anonymously(client, storage, key, secret):
    catalogue(client, key, secret, [{"product_id": p} for p in ("p1", "p2")])
    counted(storage)
    view(client, key, "p1", visitor="before-login")
    view(client, key, "p2", visitor="before-login", user_id="u1")  # the login links the two
    answer = home(client, key, visitor="new-device", user_id="u1")
    assert ids(answer["recent_product_skus"]) == ["p2", "p1"]


def test_bought_together_pairs_come_first_then_the_category(client, storage, key, secret):
    products = [{"product_id": f"p{n}", "category_1": "shoes" if n < 6 else "hats"} for n in range(1, 12)]
    catalogue(client, key, secret, products)
    for _ in range(8):
        order(client, key, ["p1", "p7"])  # planted: p7 goes with p1
    for _ in range(10):
        order(client, key, ["p3"])  # a best seller, never bought with p1
    for n in (4, 8, 9, 10, 11):
        order(client, key, [f"p{n}"])
    counted(storage)
    related = ids(view(client, key, "p1", visitor="v")["related_product_skus"])
    assert related[0] == "p7" and related[1] == "p3"  # the pair, then the best sellers
    assert "p1" not in related
    # A product no one bought: its category's best sellers first.
    assert ids(view(client, key, "p5", visitor="w")["related_product_skus"])[:2] == ["p3", "p1"]


def test_a_pair_seen_by_chance_does_not_outrank_a_best_seller(client, storage, key, secret):
    catalogue(client, key, secret, [{"product_id": p} for p in ("p1", "p2", "p3", "p4")])
    order(client, key, ["p1", "p2"])
    order(client, key, ["p1", "p2"])  # twice: enough to count, not enough to beat chance
    order(client, key, ["p1", "p4"])
    for _ in range(6):
        order(client, key, ["p3"])
    counted(storage)
    assert ids(view(client, key, "p1")["related_product_skus"])[0] == "p3"


def test_out_of_stock_unavailable_and_deleted_products_are_never_offered(client, storage, key, secret):
    catalogue(client, key, secret, [{"product_id": "p1"}, {"product_id": "p2", "stock": 0},
                               {"product_id": "p3", "available": False}, {"product_id": "p4"},
                               {"product_id": "p5"}])
    for other in ("p2", "p3", "p4", "p5"):
        order(client, key, ["p1", other])
    response = send(client, key, secret, "DELETE", "/v1/products/p5/v1")
    assert response.status_code == 204, response.get_data(as_text=True)
    counted(storage)
    answer = view(client, key, "p1")
    offered = set(ids(answer["related_product_skus"])) | set(ids(answer["similar_product_skus"]))
    assert offered == {"p4"}


def test_products_in_the_cart_are_not_offered(client, storage, key, secret):
    catalogue(client, key, secret, [{"product_id": p} for p in ("p1", "p2", "p3")])
    for other in ("p2", "p3"):
        order(client, key, ["p1", other])
    counted(storage)
    post_event(client, key, make_event("viewcart", None, cart=[{"product_id": "p2", "quantity": 1}]), status=200)
    answer = view(client, key, "p1")
    assert "p2" not in ids(answer["related_product_skus"]) + ids(answer["similar_product_skus"])
    assert "p3" in ids(answer["related_product_skus"])


def test_a_repeated_event_is_answered_again_and_stored_once(client, storage, key, secret, db):
    catalogue(client, key, secret, [{"product_id": p} for p in ("p1", "p2")])
    counted(storage)
    event = make_event("pageview", "product", product_id="p1", env_event_id=new_id())
    first = post_event(client, key, event, status=200).get_json()
    again = post_event(client, key, event, status=200).get_json()
    assert first == again and ids(first["related_product_skus"] + first["similar_product_skus"]) == ["p2"]
    assert db("SELECT count(*) AS n FROM events WHERE type = 'pageview'")[0]["n"] == 1


def test_an_engine_failure_still_stores_the_event(client, storage, key, db, monkeypatch):
    from collector.recommendations import lists

    def broken(self, *args):
        raise RuntimeError("the engine broke")

    monkeypatch.setattr(lists.Lists, "viewed", broken)
    answer = view(client, key, "p1")
    assert answer == {name: [] for name in PRODUCT}
    assert db("SELECT product_id FROM events WHERE type = 'pageview'")[0]["product_id"] == "p1"


@pytest.mark.parametrize("product", ["", "x" * 300, "'; DROP TABLE events; --", "%_\\", "💥"])
def test_odd_product_ids_and_terms_are_never_a_server_error(client, key, product):
    response = client.post("/v1/events", json=make_event("pageview", "product", product_id=product),
                           headers=basic(key))
    assert response.status_code in (200, 400), response.get_data(as_text=True)
    response = client.post("/v1/events", json=make_event("search", None, term=product or "x"), headers=basic(key))
    assert response.status_code in (200, 400), response.get_data(as_text=True)
