"""The API families whose events take the intake: DataCue's browser events, Cobi's interactions and
Segment's (and RudderStack's) messages, each its schemas, its batch field and its row mapping. Their
HTTP answers are their views' (collector/api/); an import of events takes the same family as the API."""

from __future__ import annotations

import functools

from ..schemas import cobi
from ..schemas import datacue
from ..schemas import segment
from ..schemas.compiled import compiled
from .ecommerce import HomeRule
from .intake import Api
from .rows import cobi_row
from .rows import datacue_row
from .rows import segment_row

# Each event is loaded by its schema compiled (schemas/compiled.py): marshmallow's answer, in half the time.
DATACUE = Api(source="datacue", batch_field="events", item_schema=compiled(datacue.DataCueEventSchema),
              batch_schema=datacue.BATCH, to_row=datacue_row, array_is_batch=True)

COBI = Api(source="cobi", batch_field="records", item_schema=compiled(cobi.InteractionSchema),
           batch_schema=cobi.BATCH, to_row=cobi_row)

_SEGMENT_MESSAGE = compiled(segment.MessageSchema)


@functools.cache
def segment_family(home_names: str, home_paths: str) -> Api:
    """Segment's messages, with the settings' home page rule (SEGMENT_HOME_NAMES, SEGMENT_HOME_PATHS)."""
    # A batch's own fields are read leniently (context and integrations merged when they are objects,
    # sentAt as each message's) by its view: the items are what is validated, one by one.
    return Api(source="segment", batch_field="batch", item_schema=_SEGMENT_MESSAGE, batch_schema=None,
               to_row=functools.partial(segment_row, home=HomeRule.of(home_names, home_paths)))
