"""The compiled schemas (the intake's and the record path's) give exactly what plain marshmallow gives: the
same data for every body it accepts, the same messages for every body it refuses, on bodies generated from
the schemas' own fields."""

from __future__ import annotations

import copy
import uuid

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from marshmallow import Schema
from marshmallow import ValidationError
from marshmallow import fields
from marshmallow import validate

from collector.ingest import families
from collector.reference import writes
from collector.schemas import capillary
from collector.schemas import cobi
from collector.schemas import cobi_data
from collector.schemas import common
from collector.schemas import datacue
from collector.schemas import datacue_backend
from collector.schemas import record_fields
from collector.schemas import segment
from collector.schemas.compiled import CompiledLoop
from collector.schemas.compiled import compiled
from collector.schemas.compiled import tree

from support import datacue_backend as backend_examples
from support.records import EXAMPLES as DATA_EXAMPLES

#: Every schema the intake and the record path load compiled, beside the plain instance of the same class.
COMPILED = {
    "datacue": (datacue.EVENT, families.DATACUE.item_schema),
    "cobi": (cobi.RECORD, families.COBI.item_schema),
    "segment": (segment.MESSAGE, families.segment_family("", "").item_schema),
    **{f"{t.family} {t.name}": (t.schema, writes.loader(t.name))
       for t in (*cobi_data.TYPES, *datacue_backend.TYPES, capillary.COUPONS)},
}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=10,
)
_ids = st.text(min_size=1, max_size=12) | st.integers(min_value=-5, max_value=10**6) | st.just("")
_times = (st.datetimes().map(lambda t: t.isoformat()) | st.integers(min_value=-5, max_value=10**13)
          | st.sampled_from(["2026-12-05T10:00:00Z", "2026-12-05T10:00:00+02:00", "2026-12-05", "yesterday"]))


def _choices(field: fields.Field) -> list | None:
    """The values a OneOf validator allows, if the field has one."""
    for validator in field.validators:
        if isinstance(validator, validate.OneOf):
            return list(validator.choices)
    return None


def value_for(field: fields.Field) -> st.SearchStrategy:
    """Values for a field: mostly of its kind (valid or nearly), sometimes anything JSON holds."""
    return st.one_of(_of_its_kind(field), _of_its_kind(field), json_values)


def _of_its_kind(field: fields.Field) -> st.SearchStrategy:
    """Values of the field's own kind, valid ones and the edges around them."""
    choices = _choices(field)
    if choices:
        return st.sampled_from(choices + ["", choices[0].lower()])
    if isinstance(field, datacue.TypedEvent):
        return st.one_of([_typed_event(kind, subtype, schema) for kind, subtypes in datacue.EVENT_TYPES.items()
                          for subtype, schema in subtypes.items()])
    if isinstance(field, datacue.CartLine):
        return object_for(datacue.CartLineSchema()) | _ids
    if isinstance(field, fields.Nested):
        return object_for(field.schema)
    if isinstance(field, fields.List):
        return st.lists(value_for(field.inner), max_size=3)
    if isinstance(field, fields.UUID):
        return st.uuids().map(str) | st.uuids().map(lambda u: str(u).upper()) | st.just("e-123")
    if isinstance(field, (common.Timestamp, record_fields.RecordTime)):
        return _times
    if isinstance(field, record_fields.RecordDate):
        return st.dates().map(str) | st.sampled_from(["2026-02-30", "05/12/2026"])
    if isinstance(field, record_fields.Region):
        return st.sampled_from(["CA", "ca", "US", "XX", "Canada"])
    if isinstance(field, fields.Boolean):
        return st.booleans() | st.sampled_from(["true", "no", 1, 2])
    if isinstance(field, common.Currency):
        return st.sampled_from(["usd", "EUR", "US", "€€€"])
    if isinstance(field, fields.Float):
        return st.floats() | st.sampled_from(["12.5", "nan", "1e13"]) | st.integers(-10, 10**6)
    if isinstance(field, fields.Integer):
        return st.integers(min_value=-3, max_value=2_000_000) | st.sampled_from([2.5, "5", True])
    if isinstance(field, (fields.Dict, fields.Raw)):
        return st.dictionaries(st.text(max_size=8), json_values, max_size=3) | json_values
    if isinstance(field, fields.String):
        return st.text(max_size=20) | st.sampled_from(["192.0.2.1", "2001:db8::1", "not an ip", "x" * 600])
    return _ids  # the collector's id fields and anything else that takes a string or a number


def object_for(schema: Schema, fixed: dict | None = None) -> st.SearchStrategy:
    """Objects for a schema: some of its fields (required ones mostly there), now and then undeclared keys."""
    names = sorted(schema.load_fields)
    required = {n: value_for(schema.load_fields[n]) for n in names if schema.load_fields[n].required}
    optional = {n: value_for(schema.load_fields[n]) for n in names if not schema.load_fields[n].required}
    declared = st.fixed_dictionaries({}, optional={**required, **optional}) | st.fixed_dictionaries(
        required, optional=optional)
    extras = st.dictionaries(st.text(max_size=6), json_values, max_size=2) | st.just({})
    return st.tuples(declared, extras, st.just(fixed or {})).map(lambda parts: {**parts[1], **parts[0], **parts[2]})


def _typed_event(kind: str, subtype: str | None, schema: Schema) -> st.SearchStrategy:
    """An `event` object of one type and subtype (sometimes with a subtype it does not take)."""
    fixed = {"type": kind} if subtype is None else {"type": kind, "subtype": subtype}
    return object_for(schema, fixed) | object_for(schema, {"type": kind, "subtype": ""})


def outcome(schema: Schema, body) -> tuple:
    """What a schema makes of a body: its data, or its messages."""
    try:
        return "loaded", schema.load(copy.deepcopy(body))
    except ValidationError as error:
        return "refused", error.messages


def _valid_examples() -> dict[str, list[dict]]:
    """Valid bodies of each compiled schema, to change a few fields of."""
    examples = {f"cobi-data {name}": [record] for name, record in DATA_EXAMPLES.items()}
    for name in ("product", "banner", "user", "order"):
        examples[f"datacue-backend {name}s"] = [getattr(backend_examples, name.upper())]
    examples["datacue-backend product-categories"] = [{"category_id": "c1", "name": "Jeans", "link": "/c/jeans"},
                                                      {"category_id": 7, "name": "Sofas"}]
    examples["capillary coupons"] = [{"series_id": "s1", "code": "C-1"},
                                     {"series_id": 7, "code": "C-2", "customer_identifier": "mobile",
                                      "customer_value": "+6591234567"}]
    return {**examples, **VALID}


def nearly(family: str, plain: Schema) -> st.SearchStrategy:
    """A valid body of the schema with a few of its fields given other values, or taken away."""
    def change(example: dict) -> st.SearchStrategy:
        """Some fields of one example redrawn, some dropped."""
        redrawn = st.fixed_dictionaries({}, optional={n: value_for(plain.load_fields[n]) for n in plain.load_fields})
        dropped = st.sets(st.sampled_from(sorted(example)), max_size=2)
        return st.tuples(redrawn, dropped).map(
            lambda parts: {k: v for k, v in {**example, **parts[0]}.items() if k not in parts[1]})
    return st.sampled_from(_valid_examples().get(family, [{}])).flatmap(change)


@pytest.mark.parametrize("family", sorted(COMPILED))
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_compiled_gives_what_plain_marshmallow_gives(family, data):
    """For generated bodies, valid and invalid alike, the compiled schema's answer is plain marshmallow's."""
    plain, fast = COMPILED[family]
    body = data.draw(nearly(family, plain) | object_for(plain) | json_values)
    assert outcome(fast, body) == outcome(plain, body)


def test_every_compiled_schema_has_valid_examples():
    """Each compiled schema's nearly-valid bodies start from examples it accepts."""
    for family, (plain, _fast) in COMPILED.items():
        examples = _valid_examples().get(family)
        assert examples, f"no valid example for {family}"
        for example in examples:
            assert outcome(plain, example)[0] == "loaded", (family, outcome(plain, example))


VALID = {
    "datacue": [
        {"event_id": "6F9619FF-8B86-D011-B42D-00C04FC964FF", "user": {"anonymous_id": "a1", "user_id": None},
         "event": {"type": "order", "subtype": "completed", "order_id": 7, "cart": [
             "p1", {"product_id": "p2", "price": "12.5", "currency": "usd", "colour": "red"}]},
         "context": {"user-agent": "Mozilla/5.0", "ip": "192.0.2.1", "screen": "390x844"},
         "timestamp": 1764928800000},
        {"user": {"user_id": "u1"}, "event": {"type": "viewcart", "subtype": "", "cart": []}, "sent_at": None},
    ],
    "cobi": [{"interaction_type": "PAGE_VIEW", "item_type": "OFFER", "item_id": "6f9619ff-8b86-d011-b42d-00c04fc964ff",
              "user_id": None, "platform": "WEB", "event_timestamp": "2026-12-05T10:00:00Z",
              "context": {"page_url": "https://shop.example/"}}],
    "segment": [{"type": "track", "event": "Order Completed", "userId": None, "anonymousId": "a1",
                 "messageId": "m1", "properties": {"order_id": "o1"}, "timestamp": "not a time",
                 "context": {"library": {"name": "analytics-python", "version": "2.4.0"}, "ip": "bad"},
                 "_metadata": {"nodeVersion": "20"}}],
}


@pytest.mark.parametrize("family", sorted(VALID))
def test_valid_bodies_take_the_compiled_loop(family, monkeypatch):
    """Valid bodies (nulls, undeclared keys and nested objects among them) are answered by the compiled loop
    of every schema they reach, never by going back to plain marshmallow."""
    plain, _fast = COMPILED[family]
    fast = compiled(type(plain))
    loops = [schema._deserialize for schema in tree(fast)]
    assert len(loops) > 1 and all(isinstance(loop, CompiledLoop) for loop in loops)
    for loop in loops:
        monkeypatch.setattr(loop, "plain", lambda *args, **kwargs: pytest.fail("went back to plain marshmallow"))
    for body in VALID[family]:
        assert fast.load(copy.deepcopy(body)) == plain.load(copy.deepcopy(body))


def test_the_module_instances_stay_plain():
    """Compiling makes new instances: the schemas the validation-only benchmark and the other paths load
    with keep marshmallow's own loop."""
    for plain, fast in COMPILED.values():
        assert not isinstance(plain._deserialize, CompiledLoop)
        assert isinstance(fast._deserialize, CompiledLoop)
    assert not any(isinstance(schema._deserialize, CompiledLoop)
                   for subtypes in datacue.EVENT_TYPES.values() for schema in subtypes.values())


_hex = "0123456789abcdefABCDEF"


@settings(max_examples=300, deadline=None)
@given(value=st.uuids().map(str) | st.uuids().map(lambda u: str(u).upper()) | st.uuids().map(lambda u: u.hex)
       | st.uuids().map(lambda u: "{" + str(u) + "}") | st.uuids().map(lambda u: f"urn:uuid:{u}")
       | st.text(alphabet=_hex + "-{}\n ", min_size=30, max_size=40) | st.uuids().map(lambda u: str(u) + "\n"))
def test_a_uuid_is_kept_as_its_canonical_string(value):
    """The Uuid field's shortcut for a canonical string gives what parsing it gives, for every spelling
    a UUID may come in and strings that only look like one."""
    field = common.Uuid()
    try:
        expected = ("loaded", str(uuid.UUID(value)))
    except ValueError:
        expected = ("refused", ["Not a valid UUID."])
    try:
        got = ("loaded", field.deserialize(value))
    except ValidationError as error:
        got = ("refused", error.messages)
    assert got == expected
