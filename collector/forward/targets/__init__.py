"""The forward target registry: one module per kind (datacue.py, datacue_backend.py, cobi.py, webhook.py).

The runner, the CLI and the outbox filter read the kinds from here; a new kind is a module that
defines a `TargetKind` and a line that registers it.
"""

from __future__ import annotations

from . import cobi
from . import datacue
from . import datacue_backend
from . import webhook
from .kind import Credential
from .kind import Delivery
from .kind import TargetKind

__all__ = ["Credential", "Delivery", "TargetKind", "get", "names", "register", "unregister", "wants"]

_REGISTRY: dict[str, TargetKind] = {}


def register(kind: TargetKind) -> TargetKind:
    """Make a kind known to the runner, the CLI and the outbox filter; return it."""
    if not kind.name.isidentifier() or kind.name != kind.name.lower():
        raise ValueError(f"a target kind's name is a lower-case identifier, got {kind.name!r}")
    _REGISTRY[kind.name] = kind
    return kind


def unregister(name: str) -> None:
    """Forget a kind (a plugin unloaded, a test done): its targets' events are no longer queued or sent."""
    _REGISTRY.pop(name, None)


def get(name: str) -> TargetKind | None:
    """The kind with this name, or None."""
    return _REGISTRY.get(name)


def names() -> list[str]:
    """Every registered kind's name, in registration order."""
    return list(_REGISTRY)


def wants(kind: str, event: dict) -> bool:
    """Whether a target of this kind takes this event; a kind no longer registered takes nothing."""
    found = _REGISTRY.get(kind)
    return found is not None and found.wants(event)


for _module in (datacue, datacue_backend, cobi, webhook):
    register(_module.KIND)
