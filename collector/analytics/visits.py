"""Visits (sessions) as Plausible defines them, made from a visit's events: the one definition the `visits`
table is kept by (storage/visits.py) and the tests check it against.

A visit is the tracker's session (every event with that `session_id`), or, for events without one (imports,
servers' events), a visitor's events less than 30 minutes apart. Its source, UTM tags, device, browser and
system are its first event's, as Plausible freezes them when a visit starts; its entry and exit pages are the
paths of its first and last page views; it is a bounce when it holds one event (any second event, a page view
or an interaction, clears the bounce, as in Plausible's session store); its duration is the seconds from its
first event to its last (a bounce lasts 0 s and counts in the average, as in Plausible).
"""

from __future__ import annotations

from ..access.sites import period_filter
from ..clock import parse

#: A visitor's events further apart than this are two visits (Plausible, PostHog and Umami all use 30 min).
VISIT_GAP_SECONDS = 30 * 60
#: What a visit is made from: the columns of each event, in this order.
EVENT_FIELDS = ("id", "source", "type", "subtype", "anonymous_id", "user_id", "event_time", "page_path",
                "referrer_domain", "utm_source", "utm_medium", "utm_campaign", "device", "browser", "os", "page_load")
#: The columns of a `visits` row, in this order.
VISIT_COLUMNS = ("key", "mode", "session_id", "derived", "visitor", "user_id", "started_at", "ended_at", "duration",
                 "events", "pageviews", "bounce", "entry_page", "exit_page", "source", "utm_source", "utm_medium",
                 "utm_campaign", "device", "browser", "os", "ordered")


def page_view(alias: str = "") -> str:
    """SQL of a page view: the event a page sent as it loaded (`page_load`, the tracker's mark: a cart page's
    viewcart, a search page's search), and any pageview event, except Segment's Product Viewed and Product
    List Viewed, which are tracks on a page that Segment's own `page` call counted already (counting both
    would double it). docs/decisions.md says why."""
    return (f"({alias}page_load = 1 OR {alias}type = 'pageview' "
            f"AND ({alias}source <> 'segment' OR {alias}subtype IN ('home', 'page')))")


def is_page_view(event: dict) -> bool:
    """The same rule for an event read into a dict."""
    return bool(event["page_load"]) or event["type"] == "pageview" and (
        event["source"] != "segment" or event["subtype"] in ("home", "page"))


def summarise(key: str, mode: str, session_id: str, derived: bool, events: list[dict]) -> dict:
    """One visit's row from its events (dicts of EVENT_FIELDS), in time order."""
    first, last = events[0], events[-1]
    pages = [event["page_path"] for event in events if is_page_view(event)]
    visitor = next((e["anonymous_id"] for e in events if e["anonymous_id"]), None) \
        or next((e["user_id"] for e in events if e["user_id"]), None)
    return {
        "key": key, "mode": mode, "session_id": session_id, "derived": int(derived), "visitor": visitor,
        "user_id": next((e["user_id"] for e in reversed(events) if e["user_id"]), None),
        "started_at": first["event_time"], "ended_at": last["event_time"],
        "duration": int((parse(last["event_time"]) - parse(first["event_time"])).total_seconds()),
        "events": len(events), "pageviews": len(pages), "bounce": int(len(events) == 1),
        "entry_page": pages[0] if pages else None, "exit_page": pages[-1] if pages else None,
        "source": first["referrer_domain"], "utm_source": first["utm_source"], "utm_medium": first["utm_medium"],
        "utm_campaign": first["utm_campaign"], "device": first["device"], "browser": first["browser"],
        "os": first["os"],
        "ordered": int(any(e["type"] == "order" and e["subtype"] == "completed" for e in events)),
    }


def split(events: list[dict]) -> list[list[dict]]:
    """A visitor's events (in time order) cut into visits where more than 30 minutes pass between two."""
    visits: list[list[dict]] = []
    previous = None
    for event in events:
        moment = parse(event["event_time"])
        if previous is None or (moment - previous).total_seconds() > VISIT_GAP_SECONDS:
            visits.append([])
        visits[-1].append(event)
        previous = moment
    return visits


def derived_id(visitor: str, events: list[dict]) -> str:
    """The id of a visit made of a visitor's events without a session: the visitor and its start."""
    return f"{visitor}#{events[0]['event_time']}"


def events_of_visits(columns: str, where: str) -> str:
    """SQL of some columns of the events (`e`) matching `where` of the visits (`v`) that start in a period:
    the tracker's sessions by their id, a visitor's events without one by time (through the indexes of such
    events). Its parameters, three times: those of `columns`, the period filter's (mode, since, until, the
    sites' keys), those of `where`."""
    select = f"SELECT {columns} FROM visits v JOIN events e ON e.key = v.key AND "
    period = period_filter("v.", time="started_at")
    # A key has one mode, so a session's events need no mode condition (and read only the session index).
    loose = ("e.mode = v.mode AND e.session_id IS NULL AND {} = v.visitor AND e.event_time >= v.started_at "
             f"AND e.event_time <= v.ended_at WHERE v.derived = 1 AND {period} AND e.bot IS NULL AND ({where})")
    return (f"{select}e.session_id = v.session_id WHERE v.derived = 0 AND {period} AND e.bot IS NULL AND ({where}) "
            f"UNION ALL {select}{loose.format('e.anonymous_id')} "
            f"UNION ALL {select}{loose.format('e.anonymous_id IS NULL AND e.user_id')}")
