"""What a user agent says, read once at ingest into stored columns: browser, operating system, device class,
and whether it is a bot (and why).

Browsers and systems come from ua-parser (the uap-core rules, refreshed monthly in ua-parser-builtins;
ua-parser-rs, the `fast` extra, parses natively), named as Plausible names them (Mobile Safari is Safari,
Chrome Mobile is Chrome), versions cut to major.minor. Bots are what CrawlerDetect's patterns match
(crawlers, headless browsers, HTTP libraries and tools such as curl) and what ua-parser calls a spider.
An event without a user agent (an import, a server's event) is not called a bot: nothing says it is.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from crawlerdetect import CrawlerDetect
from ua_parser import parse

#: Browser families merged as Plausible merges them.
_BROWSERS = {"Mobile Safari": "Safari", "Mobile Safari UI/WKWebView": "Safari", "Chrome Mobile": "Chrome",
             "Chrome Mobile iOS": "Chrome", "Chrome Mobile WebView": "Chrome", "Firefox Mobile": "Firefox",
             "Firefox iOS": "Firefox", "Edge Mobile": "Edge", "Opera Mobile": "Opera"}
_TABLET_WORDS = ("ipad", "tablet", "kindle", "silk/", "playbook")
_MOBILE_WORDS = ("mobile", "iphone", "ipod", "android", "windows phone", "blackberry", "opera mini")


@dataclass(frozen=True)
class Agent:
    """A user agent as the reports read it (None where it says nothing)."""

    browser: str | None = None
    browser_version: str | None = None
    os: str | None = None
    os_version: str | None = None
    #: Desktop, Mobile or Tablet.
    device: str | None = None
    #: Why this is a bot (`crawler: Googlebot`, `headless browser`, ...), or None for a person's browser.
    bot: str | None = None


def _version(major: str | None, minor: str | None) -> str | None:
    """major.minor, or the major alone, or None."""
    if not major:
        return None
    return f"{major}.{minor}" if minor else major


def _device(text: str) -> str:
    """The device class: Tablet, Mobile or Desktop (Plausible's three), from the user agent's words."""
    lowered = text.lower()
    if any(word in lowered for word in _TABLET_WORDS) or ("android" in lowered and "mobile" not in lowered):
        return "Tablet"
    return "Mobile" if any(word in lowered for word in _MOBILE_WORDS) else "Desktop"


@functools.lru_cache(maxsize=8192)  # visitors send the same few user agents again and again
def describe(user_agent: str | None) -> Agent:
    """Read a user agent once; the same string is answered from the cache."""
    if not user_agent or not user_agent.strip():
        return Agent()
    parsed = parse(user_agent)
    browser = parsed.user_agent
    system = parsed.os
    detector = CrawlerDetect()  # one per call: it keeps its last match on itself
    bot = None
    if detector.is_crawler(user_agent):
        bot = f"crawler: {detector.get_matches()}"
    elif parsed.device is not None and parsed.device.family == "Spider":
        bot = f"spider: {browser.family if browser else user_agent[:40]}"
    elif "headless" in user_agent.lower():
        bot = "headless browser"
    family = browser.family if browser and browser.family != "Other" else None
    known_os = system is not None and system.family != "Other"
    return Agent(
        browser=_BROWSERS.get(family, family),
        browser_version=_version(browser.major, browser.minor) if family else None,
        os=system.family if known_os else None,
        os_version=_version(system.major, system.minor) if known_os else None,
        device=None if bot else _device(user_agent), bot=bot)
