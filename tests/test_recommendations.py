"""DataCue's answers to page views: each list's shape and rules, from the shop's own data, on both backends."""

from __future__ import annotations

import json

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


@pytest.fixture(autouse=True)
def _nothing_kept(monkeypatch):
    """Every answer reads the best sellers afresh, as one does once KEEP_SECONDS have passed, and the
    worker's pass works out co-viewed lists at once, as its first pass a minute later does."""
    from collector.recommendations import kept
    from collector.recommendations import upkeep

    monkeypatch.setattr(kept, "KEEP_SECONDS", 0.0)
    monkeypatch.setattr(upkeep, "VIEWED_LIST_SECONDS", 0.0)


def counted(storage) -> None:
    """Bring the recommendation tables up to date, as the worker's next pass does (without PostgreSQL's
    wait for rows still in flight: every row here was committed before)."""
    keep_up(storage, settle=0)


def catalogue(client, key, secret, products: list[dict]) -> None:
    """Send products through DataCue's backend API (one variant each unless given)."""
    body = {"type": "products", "batch": [{"product_id": p["product_id"], "variant_id": p.get("variant_id", "v1"),
                       "name": p.get("name", f"Product {p['product_id']}"), "price": p.get("price", 10),
                       "stock": p.get("stock", 5),
                       "category_1": p.get("category_1", "misc"), "photo_url": f"/img/{p['product_id']}.jpg",
                       "link": f"/p/{p['product_id']}", **{k: v for k, v in p.items() if k not in ("price",)}}
                      for p in products]}
    response = send(client, key, secret, "POST", "/v1/batch", body)
    assert response.status_code == 207 and all(s["status"] == "OK" for s in response.json["status"]), \
        response.get_data(as_text=True)


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


def test_a_product_out_of_stock_leaves_the_lists_at_the_next_pass(client, storage, key, secret):
    def offered() -> dict[str, dict]:
        """The products a product page of p1 offers, by id."""
        answer = view(client, key, "p1")
        return {p["product_id"]: p for p in answer["related_product_skus"] + answer["similar_product_skus"]}

    catalogue(client, key, secret, [{"product_id": p} for p in ("p1", "p2", "p3")])
    counted(storage)
    assert set(offered()) == {"p2", "p3"}  # and this process keeps them
    catalogue(client, key, secret, [{"product_id": "p2", "stock": 0}])
    assert set(offered()) == {"p2", "p3"}  # not counted yet
    counted(storage)
    assert set(offered()) == {"p3"}
    catalogue(client, key, secret, [{"product_id": "p2", "stock": 4, "name": "Back again"}])
    counted(storage)
    assert offered()["p2"]["name"] == "Back again"


def test_the_lists_a_process_keeps_change_at_the_worker_s_next_pass(client, storage, key, secret):
    catalogue(client, key, secret, [{"product_id": p} for p in ("p1", "p2", "p3")])
    counted(storage)
    assert ids(view(client, key, "p1", visitor="d")["related_product_skus"]) == []  # p1's lists kept: none yet
    for visitor in ("a", "b"):
        view(client, key, "p1", visitor=visitor)
        view(client, key, "p3", visitor=visitor)
    assert ids(view(client, key, "p1", visitor="d")["related_product_skus"]) == []  # not counted yet
    counted(storage)
    assert ids(view(client, key, "p1", visitor="d")["related_product_skus"]) == ["p3"]  # viewed with p1
    assert storage.shared_read("SELECT changed FROM rec_lists WHERE product_id = 'p1'")[0]["changed"] > 0


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

    monkeypatch.setattr(lists.Lists, "history", broken)
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


def test_sites_and_modes_never_mix(client, storage, key, secret):
    from collector.access import keys

    other = keys.create_key(storage, "other shop", [])
    staging = keys.create_key(storage, "staging", [], test=True)
    catalogue(client, key, secret, [{"product_id": p} for p in ("p1", "p2", "p3")])
    for shop in (other, staging):
        for _ in range(5):
            order(client, shop, ["p1", "p3"])
    view(client, other, "p2", visitor="anon-1")
    counted(storage)
    # Neither the other site's nor the test traffic's orders and views shape this site's live answers.
    assert db_pairs(storage) == {(other, "live"), (staging, "test")}
    answer = view(client, key, "p1", visitor="anon-1")
    assert ids(answer["recent_product_skus"]) == []
    # The catalogue alone: nothing this site sold or viewed, so only products like p1, none bought with it.
    assert (ids(answer["related_product_skus"]), ids(answer["similar_product_skus"])) == ([], ["p2", "p3"])


def db_pairs(storage) -> set:
    """The (key, mode) of every bought-together pair counted."""
    return {(row["key"], row["mode"]) for row in storage.shared_read("SELECT DISTINCT key, mode FROM rec_pairs")}


def test_bots_shape_no_one_s_answers(client, storage, key, secret):
    catalogue(client, key, secret, [{"product_id": p} for p in ("p1", "p2", "p3")])
    crawler = {"User-Agent": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"}
    for _ in range(5):
        post_event(client, key, make_event("order", "completed", order_id=new_id(), cart=[
            {"product_id": "p1"}, {"product_id": "p3"}], user={"anonymous_id": "bot"}), headers=crawler)
        for product in ("p1", "p3"):
            post_event(client, key, make_event("pageview", "product", product_id=product,
                                               user={"anonymous_id": "bot"}), headers=crawler)
    counted(storage)
    assert storage.shared_read("SELECT count(*) AS n FROM rec_pairs")[0]["n"] == 0
    assert storage.shared_read("SELECT count(*) AS n FROM rec_items")[0]["n"] == 0


def test_a_forgotten_visitor_leaves_the_lists(client, storage, key, secret, cli):
    catalogue(client, key, secret, [{"product_id": p} for p in ("p1", "p2", "p3")])
    for _ in range(8):
        order(client, key, ["p1", "p2"], visitor="forget-me")
    for _ in range(6):
        order(client, key, ["p3"], visitor="someone")
    view(client, key, "p2", visitor="forget-me")
    counted(storage)
    assert ids(view(client, key, "p1", visitor="x")["related_product_skus"])[0] == "p2"
    cli("forget", "--anonymous-id", "forget-me")
    assert view(client, key, "p1", visitor="forget-me")["recent_product_skus"] == []  # at once
    counted(storage)  # the worker's next pass counts the site again without them
    assert ids(view(client, key, "p1", visitor="x")["related_product_skus"])[0] == "p3"
    assert storage.shared_read("SELECT count(*) AS n FROM rec_pairs WHERE other_id = 'p2'")[0]["n"] == 0


def test_banners_rank_by_the_visitor_s_categories_and_every_one_is_listed(client, storage, key, secret):
    catalogue(client, key, secret, [{"product_id": "p1", "category_1": "garden"},
                                    {"product_id": "p2", "category_1": "kitchen"}])
    banners = [{"banner_id": f"b{n}", "type": kind, "category_1": category, "name": f"{category} {kind}",
                "photo_url": f"/b{n}.jpg", "link": f"/c/{category}"}
               for n, (kind, category) in enumerate([("main", "kitchen"), ("main", "garden"), ("sub", "kitchen"),
                                                     ("sub", "garden"), ("sub", "bedroom")])]
    response = send(client, key, secret, "POST", "/v1/batch", {"type": "banners", "batch": banners})
    assert response.status_code == 207 and all(s["status"] == "OK" for s in response.json["status"]), \
        response.get_data(as_text=True)
    counted(storage)
    view(client, key, "p1", visitor="gardener")
    answer = home(client, key, visitor="gardener")
    assert [b["banner_id"] for b in answer["main_banners"]] == ["b1", "b0"]
    assert [b["banner_id"] for b in answer["sub_banners"]][0] == "b3" and len(answer["sub_banners"]) == 3
    assert answer["main_banners"][0] == {"banner_id": "b1", "name": "garden main", "photo_url": "/b1.jpg",
                                         "link": "/c/garden"}
    # A visitor with no history: every banner still, the shop's order.
    assert [b["banner_id"] for b in home(client, key, visitor="new")["main_banners"]] == ["b0", "b1"]


def test_similar_products_share_categories_brand_and_words(client, storage, key, secret):
    catalogue(client, key, secret, [
        {"product_id": "p1", "name": "Oak dining table", "category_1": "furniture", "category_2": "tables",
         "brand": "Nordic", "price": 300},
        {"product_id": "p2", "name": "Oak coffee table", "category_1": "furniture", "category_2": "tables",
         "brand": "Nordic", "price": 250},
        {"product_id": "p3", "name": "Glass side table", "category_1": "furniture", "category_2": "tables",
         "price": 90},
        {"product_id": "p4", "name": "Oak wardrobe", "category_1": "furniture", "category_2": "storage"},
        {"product_id": "p5", "name": "Oak spoon", "category_1": "kitchen"}])
    counted(storage)
    answer = view(client, key, "p1")
    offered = ids(answer["related_product_skus"]) + ids(answer["similar_product_skus"])
    assert ids(answer["similar_product_skus"])[:1] == ["p2"] or ids(answer["related_product_skus"])[:1] == ["p2"]
    assert "p5" not in offered


def test_a_search_is_answered_with_matching_products(client, storage, key, secret):
    catalogue(client, key, secret, [{"product_id": "p1", "name": "Linen sofa"},
                                    {"product_id": "p2", "name": "Velvet sofa cushion"},
                                    {"product_id": "p3", "name": "Desk lamp"}])
    counted(storage)
    answer = post_event(client, key, make_event("search", None, term="Sofa")).get_json()
    assert list(answer) == ["related_product_skus"]
    assert set(ids(answer["related_product_skus"])[:2]) == {"p1", "p2"}


def test_views_in_one_visit_make_co_viewed_neighbours(client, storage, key, secret):
    catalogue(client, key, secret, [{"product_id": p, "category_1": f"c{p}"} for p in ("p1", "p2", "p3", "p4")])
    for visitor in ("a", "b", "c"):
        view(client, key, "p1", visitor=visitor)
        view(client, key, "p4", visitor=visitor)
    counted(storage)
    pairs = storage.shared_read("SELECT product_id, other_id, n FROM rec_pairs WHERE kind = 'viewed' "
                                "ORDER BY product_id, other_id")
    assert pairs == [{"product_id": "p1", "other_id": "p4", "n": 3}, {"product_id": "p4", "other_id": "p1", "n": 3}]
    # No orders: bought together falls back to what was viewed with it.
    assert ids(view(client, key, "p1", visitor="d")["related_product_skus"])[0] == "p4"


def test_a_product_s_co_viewed_list_waits_for_its_minute(client, storage, key, monkeypatch):
    from collector.recommendations import upkeep

    monkeypatch.setattr(upkeep, "VIEWED_LIST_SECONDS", 60.0)
    for visitor in ("a", "b"):
        view(client, key, "p1", visitor=visitor)
        view(client, key, "p2", visitor=visitor)
    counted(storage)
    assert ids(view(client, key, "p1", visitor="d")["related_product_skus"]) == []  # counted, not yet listed
    with storage.shared_transaction() as conn:
        conn.execute("UPDATE rec_dirty SET due = 0")
    counted(storage)
    assert ids(view(client, key, "p1", visitor="d")["related_product_skus"]) == ["p2"]
    view(client, key, "p1", visitor="e")
    view(client, key, "p3", visitor="e")  # p1's next list waits its minute again
    counted(storage)
    assert ids(view(client, key, "p1", visitor="d")["related_product_skus"]) == ["p2"]
    due = storage.shared_read("SELECT product_id, due FROM rec_dirty WHERE kind = 'viewed' ORDER BY product_id")
    assert [row["product_id"] for row in due] == ["p1", "p3"] and all(row["due"] > 0 for row in due)


def test_an_order_reported_by_the_browser_and_the_backend_counts_once(client, storage, key, secret):
    catalogue(client, key, secret, [{"product_id": p} for p in ("p1", "p2")])
    post_event(client, key, make_event("order", "completed", order_id="o-1", cart=[
        {"product_id": "p1"}, {"product_id": "p2"}]))
    response = send(client, key, secret, "POST", "/v1/orders", {"order_id": "o-1", "cart": [
        {"product_id": "p1", "variant_id": "v1", "quantity": 1, "unit_price": 5, "currency": "USD"},
        {"product_id": "p2", "variant_id": "v1", "quantity": 1, "unit_price": 5, "currency": "USD"}]})
    assert response.status_code == 201, response.get_data(as_text=True)
    counted(storage)
    assert storage.shared_read("SELECT orders FROM rec_items WHERE product_id = 'p1'") == [{"orders": 1}]


def test_the_evaluation_finds_the_planted_pairs_far_more_often_than_best_sellers():
    from collector.recommendations.evaluate import evaluate
    from collector.recommendations.evaluate import planted_shop

    rows = {row["ranking"]: row for row in evaluate(planted_shop(skew=0.5, orders=4000))}
    collector, best, category = (rows[name]["hit_rate@10"] for name in (
        "collector (bought together)", "site best sellers", "category best sellers"))
    assert collector >= 3 * best and collector >= 3 * category
    assert rows["collector (bought together)"]["ndcg@10"] > rows["site best sellers"]["ndcg@10"]


def test_the_evaluation_command_reads_a_csv_of_order_lines(tmp_path, cli):
    lines = ["order,product,at"] + [f"o{n},p{n % 7},2026-01-{1 + n // 40:02d}T10:00:00" for n in range(400)] + [
        f"o{n},p{(n % 7) + 7},2026-01-{1 + n // 40:02d}T10:00:00" for n in range(400)]
    path = tmp_path / "lines.csv"
    path.write_text("\n".join(lines) + "\n")
    out = cli("recommendations", "evaluate", "--orders", str(path), "--order-column", "order", "--product-column",
              "product", "--time-column", "at", "--format", "json").stdout
    rows = {row["ranking"]: row for row in json.loads(out)}
    # Each order holds p(k) and p(k + 7): the collector names the partner first, every time.
    assert rows["collector (bought together)"]["hit_rate@10"] == 1.0
    assert rows["collector (bought together)"]["ndcg@10"] == 1.0


def test_a_site_sets_its_own_list_lengths_and_no_other_site_changes(client, storage, key, cli):
    from collector.access import keys

    other = keys.create_key(storage, "another shop", [])
    for site in (key, other):
        for n in range(1, 12):
            view(client, site, f"p{n}", visitor="looker")
    assert len(view(client, key, "p0", visitor="looker")["recent_product_skus"]) == 10
    shown = json.loads(cli("recommendations", "lengths", "--site", key, "recent=3,similar=0").stdout)
    assert shown["recent"] == {"length": 3, "set_for_site": True}
    assert shown["related"] == {"length": 8, "set_for_site": False}
    answer = view(client, key, "p0", visitor="looker")
    assert len(answer["recent_product_skus"]) == 3 and answer["similar_product_skus"] == []
    assert len(view(client, other, "p0", visitor="looker")["recent_product_skus"]) == 10
    refused = cli("recommendations", "lengths", "--site", key, "recent=99", check=False)
    assert refused.returncode != 0 and "0 to 20" in refused.stderr
    cli("recommendations", "lengths", "--site", key, "--reset")
    assert len(view(client, key, "p0", visitor="looker")["recent_product_skus"]) == 10


def test_what_a_visitor_bought_shapes_their_home_page_and_is_not_offered_again(client, storage, key, secret):
    catalogue(client, key, secret, [{"product_id": p} for p in ("p1", "p2", "p3", "p4")])
    for _ in range(20):
        order(client, key, ["p1", "p2"])
    for _ in range(25):
        order(client, key, ["p3"])
    counted(storage)
    assert ids(home(client, key, visitor="returning")["related_product_skus"])[:2] == ["p3", "p1"]  # best sellers
    order(client, key, ["p1"], visitor="returning")
    related = ids(home(client, key, visitor="returning")["related_product_skus"])
    assert related[0] == "p2" and "p1" not in related  # bought with what they bought; not that again
