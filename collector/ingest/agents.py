"""What a user agent says, read once at ingest into stored columns: browser, operating system, device class,
and whether it is a bot (and why).

Browsers and systems come from ua-parser (the uap-core rules, refreshed monthly in ua-parser-builtins;
ua-parser-rs, the `fast` extra, parses natively), named as Plausible names them (Mobile Safari is Safari,
Chrome Mobile is Chrome), versions cut to major.minor. Bots are what CrawlerDetect's patterns match
(crawlers, headless browsers, HTTP libraries and tools such as curl) and what ua-parser calls a spider.
An event without a user agent (an import, a server's event) is not called a bot: nothing says it is, and
neither is an app's (a Cobi interaction from ANDROID or IOS): apps' HTTP stacks (okhttp, CFNetwork, Dart)
name themselves as HTTP libraries do, so the user agent cannot tell an app's user from a script.
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


def _device(text: str, app: bool) -> str:
    """The device class: Tablet, Mobile or Desktop (Plausible's three), from the user agent's words."""
    lowered = text.lower()
    if any(word in lowered for word in _TABLET_WORDS) or ("android" in lowered and "mobile" not in lowered):
        return "Tablet"
    # An app's HTTP stack rarely names the device; ANDROID and IOS apps run on phones unless it says tablet.
    return "Mobile" if app or any(word in lowered for word in _MOBILE_WORDS) else "Desktop"


def _bot(user_agent: str, parsed) -> str | None:
    """Why this user agent is a bot (CrawlerDetect, then ua-parser's spiders, then "headless"), or None."""
    detector = CrawlerDetect()  # one per call: it keeps its last match on itself
    if detector.is_crawler(user_agent):
        return f"crawler: {detector.get_matches()}"
    if parsed.device is not None and parsed.device.family == "Spider":
        return f"spider: {parsed.user_agent.family if parsed.user_agent else user_agent[:40]}"
    if "headless" in user_agent.lower():
        return "headless browser"
    return None


@functools.lru_cache(maxsize=8192)  # visitors send the same few user agents again and again
def describe(user_agent: str | None, app: bool = False) -> Agent:
    """Read a user agent once (an app's is never called a bot); the same string is answered from the cache."""
    if not user_agent or not user_agent.strip():
        return Agent()
    parsed = parse(user_agent)
    browser = parsed.user_agent
    system = parsed.os
    bot = None if app else _bot(user_agent, parsed)
    family = browser.family if browser and browser.family != "Other" else None
    known_os = system is not None and system.family != "Other"
    return Agent(
        browser=_BROWSERS.get(family, family),
        browser_version=_version(browser.major, browser.minor) if family else None,
        os=system.family if known_os else None,
        os_version=_version(system.major, system.minor) if known_os else None,
        device=None if bot else _device(user_agent, app), bot=bot)
