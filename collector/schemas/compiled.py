"""Schemas compiled: the same marshmallow schemas, each one's field loop turned into Python once by
deepfriedmarshmallow, for what the intake and the record path load (events and records alike, from the APIs
and from imports).

What is valid stays marshmallow's. The compiled loop answers only for a body it reads exactly as plain
marshmallow would: anything else (a field that fails, a required one missing, an option the compiler does
not know) is loaded again by plain marshmallow, whose data and messages are the answer. Inliners are off:
they replace a field's own `_deserialize` with the base type's (the collector's `Uuid` would come back a
UUID object, `Currency` not upper-cased, a strict Integer would take "5"). The compiler leaves undeclared
keys out, so they are put back here as `unknown` says. tests/test_schemas_compiled.py holds every compiled
schema to plain marshmallow on generated valid and invalid bodies.
"""

from __future__ import annotations

from collections.abc import Iterator

from deepfriedmarshmallow.jit import JitContext
from deepfriedmarshmallow.jit import generate_deserialize_method
from marshmallow import INCLUDE
from marshmallow import RAISE
from marshmallow import Schema
from marshmallow import fields
from marshmallow.validate import And


class CompiledLoop:
    """A schema's `_deserialize`: the compiled field loop where it gives marshmallow's answer, else plain."""

    def __init__(self, schema: Schema):
        """Compile the schema's field loop, keeping its plain one for everything the compiled one declines."""
        self.plain = schema._deserialize
        context = JitContext()
        context.use_inliners, context.only, context.exclude, context.schema_stack = False, None, set(), set()
        self.compiled = generate_deserialize_method(schema, context)
        self.declared = frozenset(f.data_key or name for name, f in schema.load_fields.items())
        self.nullable = frozenset(f.data_key or name for name, f in schema.load_fields.items() if f.allow_none)

    def __call__(self, data, *, error_store, many=False, partial=None, unknown=RAISE, index=None):
        """Load one object as marshmallow's `Schema._deserialize` would."""
        if self.compiled is not None and not many and not partial and type(data) is dict:
            result = self._compiled(data, unknown)
            if result is not None:
                return result
        return self.plain(data, error_store=error_store, many=many, partial=partial, unknown=unknown, index=index)

    def _compiled(self, data: dict, unknown: str) -> dict | None:
        """The compiled loop's result with undeclared keys kept as `unknown` says, or None to go plain."""
        undeclared = data.keys() - self.declared
        if undeclared and unknown == RAISE:
            return None  # plain marshmallow names each unknown key
        nulls = ()
        if None in data.values():
            # A declared field's `_deserialize` refuses None, which marshmallow never passes it when the
            # field allows null: hand the compiled loop the rest, and give those fields None after it.
            nulls = [name for name, value in data.items() if value is None and name in self.declared]
            if any(name not in self.nullable for name in nulls):
                return None
            data = {name: value for name, value in data.items() if value is not None or name not in self.declared}
        try:
            result = self.compiled(data)
        except Exception:  # noqa: BLE001 - whatever the compiled loop trips on, plain marshmallow answers
            return None
        for name in nulls:
            result[name] = None
        if undeclared and unknown == INCLUDE:
            result.update((name, data[name]) for name in data if name in undeclared)
        return result


def _schemas_in(field: fields.Field):
    """The schemas a field loads with: a Nested's, a List's item's, and the collector's own fields'."""
    if isinstance(field, fields.Nested):
        yield field.schema
    elif isinstance(field, fields.List):
        yield from _schemas_in(field.inner)
    elif hasattr(field, "nested_schemas"):
        yield from field.nested_schemas()


def tree(schema: Schema) -> Iterator[Schema]:
    """A schema and every schema its fields load with, nested ones after their parent."""
    yield schema
    for field in schema.load_fields.values():
        for nested in _schemas_in(field):
            yield from tree(nested)


def _validators_joined_once(field: fields.Field) -> None:
    """Give a field (and a List's item field) its validators joined once: marshmallow joins them anew
    (`And(*validators)`) for every value it checks, a fifth of a record's validation."""
    if field.validators:
        field._validate = And(*field.validators)
    if isinstance(field, fields.List):
        _validators_joined_once(field.inner)


def compiled(schema_class: type[Schema]) -> Schema:
    """A new instance of a schema class, with its own nested schemas, every one compiled (the module's
    instances, and every other, stay plain)."""
    schema = schema_class()
    for each in tree(schema):
        for field in each.load_fields.values():
            _validators_joined_once(field)
        each._deserialize = CompiledLoop(each)
    return schema
