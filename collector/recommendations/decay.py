"""Forward decay: a weight stored once per event that older events' weights shrink against, no rescaling.

An event at time t adds 2 ** ((t - LANDMARK) / half_life) to a sum (Cormode et al., "Forward decay",
ICDE 2009). Dividing every sum by the same 2 ** ((now - LANDMARK) / half_life) would give the decayed
counts, but ranking never needs it: sums compare as they are. The exponent is clamped so that a weight
stays a finite float; with a half-life of a week that holds for events within some 19 years of the
landmark, after which the landmark must move (one UPDATE per table dividing by a constant).
"""

from __future__ import annotations

from datetime import UTC
from datetime import datetime

#: The landmark the exponents count from.
LANDMARK = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
#: Bought together, and best sellers: an order counts half as much three weeks later.
BOUGHT_HALF_LIFE_DAYS = 21.0
#: Views (trending): a view counts half as much a week later.
VIEWED_HALF_LIFE_DAYS = 7.0
#: The largest exponent used: 2 ** 1000 is about 1e301, inside a float's range.
_LIMIT = 1000.0


def weight(moment: datetime, half_life_days: float) -> float:
    """The forward-decay weight of one event at `moment`."""
    exponent = (moment.timestamp() - LANDMARK) / (half_life_days * 86400.0)
    return 2.0 ** max(-_LIMIT, min(_LIMIT, exponent))
