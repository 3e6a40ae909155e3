"""The names workers hold leases under (outbox rows, import jobs): unique across hosts and restarts."""

from __future__ import annotations

import os
import socket
import uuid


def new_owner() -> str:
    """A worker's name in leases: its host, its process and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
