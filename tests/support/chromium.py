"""Where Debian's Chromium is and how the tests start it (no browser can be downloaded here)."""

from __future__ import annotations

import os

#: Debian's Chromium, or the one CHROMIUM names.
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
#: No sandbox as root, and no background calls to a network the machine does not have.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
