"""Where Debian's Chromium is and how the tests start it (no browser can be downloaded here)."""

from __future__ import annotations

import os

#: Debian's Chromium, or the one CHROMIUM names.
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
#: No sandbox as root, and no background calls to a network the machine does not have.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def watched_page(context):
    """A new page of a browser context whose CSP violations, page errors and console errors are recorded
    in `page.problems` (a test asserts it stays empty)."""
    page = context.new_page()
    page.problems = []
    page.on("pageerror", lambda error: page.problems.append(f"pageerror: {error}"))
    page.on("console", lambda m: m.type == "error" and page.problems.append(f"console: {m.text}"))
    page.add_init_script("document.addEventListener('securitypolicyviolation',"
                         " e => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI))")
    return page
