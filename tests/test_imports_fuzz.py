"""Hypothesis writes files to import: CSV with headers drawn from each kind's fields (and junk), cells of
any text, gzip or not, a byte-order mark or not; and bytes of anything. Every job must end (COMPLETED,
COMPLETED_WITH_ERRORS or FAILED with a reason that is about the file, never an unexpected failure), its
counts must add up, and every refused row must be in its error file."""

from __future__ import annotations

import csv
import gzip
import io

from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from collector.imports.kinds import KINDS

from support.imports import error_rows
from support.imports import imported

ENDED = {"COMPLETED", "COMPLETED_WITH_ERRORS", "FAILED"}
#: Columns a header may draw from: each kind's fields, dotted ones, and names no kind has.
_COLUMNS = sorted({name for kind in KINDS.values() for name in kind.schema.fields}
                  | {"user.anonymous_id", "user.user_id", "event.type", "event.subtype", "event.product_id",
                     "event.cart", "context.page_url", "profile.location", "colour", "user.nope", "event.type.x"})
_CELLS = st.one_of(st.text(max_size=30), st.sampled_from(
    ["", "true", "0", "1767225600", "-3", "2026-10-01T10:00:00Z", "CA", "home", "pageview", "order", "completed",
     '{"a": 1}', "[1, 2]", '[{"product_id": "p1"}]', "550e8400-e29b-41d4-a716-446655440000", "1e999", "NaN"]))


#: Cells likely to be valid for a column, by the column's last name part, so that rows get past the header
#: and often past validation, where the storage path is exercised.
_LIKELY = {"type": ["pageview", "order", "search", "login", "main", "percentage"], "subtype": ["home", "completed"],
           "region": ["CA", "ca"], "interaction_type": ["PAGE_VIEW", "DISCOUNT_CODE"],
           "item_type": ["SHOP", "OFFER", "TAG"], "customer_identifier": ["MOBILE", "NOT_TAGGED", "email"],
           "customer_value": ["9876543210", "ada@example.com"], "code": ["C-1", "C-2"], "term": ["lamp"],
           "price": ["25", "x"], "amount": ["10.5", "0"], "savings": ["1", "-1"], "value": ["3"],
           "cart": ['[{"product_id": "p1", "unit_price": 2, "quantity": 1}]', "[]"], "name": ["A shop"],
           "anonymous_id": ["a1", "a2"], "photo_url": ["/p.png"], "link": ["/p"], "category_1": ["men"]}
_IDS = ["550e8400-e29b-41d4-a716-446655440000", "550e8400-e29b-41d4-a716-446655440001", "p1", "1"]
_TIMES = ["2026-10-01T10:00:00Z", "1767225600", "yesterday"]


def _likely(column: str):
    """A strategy of cells for a column: likely-valid values of its field, or anything."""
    last = column.rsplit(".", 1)[-1]
    pool = _LIKELY.get(last) or (_IDS if last.endswith("_id") else _TIMES if "time" in last or last in (
        "created", "updated", "timestamp", "allowed_from") else None)
    return st.one_of(st.sampled_from(pool), _CELLS) if pool else _CELLS


@st.composite
def csv_files(draw) -> tuple[str, bytes]:
    """A kind and a CSV file for it: a header of its required columns (one now and then left out) and
    drawn others, rows of cells likely to fit their columns, or not."""
    kind = draw(st.sampled_from(sorted(KINDS)))
    own = sorted(KINDS[kind].schema.fields)
    required = [group[-1] for group in KINDS[kind].required]
    if required and draw(st.integers(0, 9)) == 0:
        required.remove(draw(st.sampled_from(required)))
    others = draw(st.lists(st.sampled_from(own + _COLUMNS), max_size=5, unique=True))
    header = draw(st.permutations(list(dict.fromkeys(required + others)) or ["colour"]))
    rows = draw(st.lists(st.tuples(*[_likely(column) for column in header]).map(list), max_size=6))
    if rows and draw(st.booleans()):  # a row with a cell too many, or too few
        rows.append(rows[0] + ["extra"] if draw(st.booleans()) else rows[0][:-1])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    writer.writerow(header)
    writer.writerows(rows)
    data = out.getvalue().encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    if draw(st.booleans()):
        data = gzip.compress(data)
    return kind, data


def _check(app, client, secret, kind: str, data: bytes, name: str) -> None:
    """Import a file; its job ended, for a reason about the file, with counts that add up."""
    job = imported(client, app, secret, kind, data, name)
    assert job["status"] in ENDED, job
    if job["status"] == "FAILED":
        assert job["reason"] and "unexpectedly" not in job["reason"], job
        return
    counts = job["counts"]
    assert counts["stored"] + counts["duplicates"] + counts["refused"] == counts["rows"] == counts["processed"], job
    assert len(error_rows(client, secret, job["id"])) == counts["refused"]


@given(file=csv_files())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_csv_file_ends_its_job_with_counts_that_add_up(app, client, secret, file):
    kind, data = file
    _check(app, client, secret, kind, data, f"{kind}.csv")


def test_a_header_holding_a_nul_fails_its_job_naming_the_header(app, client, secret):
    job = imported(client, app, secret, "banners", b"\x00\n", "banners.csv")
    assert job["status"] == "FAILED" and "The header is: \\x00." in job["reason"], job


@given(kind=st.sampled_from(sorted(KINDS)), data=st.binary(max_size=300),
       name=st.sampled_from(["f.csv", "f.ndjson", "f.csv.gz", "f"]))
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_bytes_end_their_job(app, client, secret, kind, data, name):
    _check(app, client, secret, kind, data, name)


@given(kind=st.sampled_from(["events", "interactions", "shops", "orders", "coupons"]),
       lines=st.lists(st.one_of(st.from_regex(r"\{.{0,40}\}", fullmatch=True), st.text(max_size=40),
                                st.just('{"user": {"anonymous_id": "a"}, "event": {"type": "login"}, '
                                        '"timestamp": 1767225600}')), max_size=6))
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_ndjson_lines_end_their_job(app, client, secret, kind, lines):
    data = "\n".join(line.replace("\n", " ") for line in lines).encode("utf-8", "surrogatepass")
    _check(app, client, secret, kind, data, "f.ndjson")
