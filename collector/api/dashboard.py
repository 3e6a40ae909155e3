"""The dashboard at /dashboard: server-rendered HTML and SVG charts over the reports, for analyst tokens."""

from __future__ import annotations

import math
from pathlib import Path
from urllib.parse import urlencode

from flask import Blueprint
from flask import Response
from flask import redirect
from flask import render_template
from flask import request

from ..access import sites
from ..access import tokens
from ..errors import ApiError
from ..errors import BadParameter
from ..errors import NotFound
from ..errors import Unauthorized
from ..reports import numbers
from ..reports import registry
from ..web.context import current_analytics
from ..web.context import current_storage
from ..web.logs import note
from .analysts import csv_download

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

COOKIE = "collector_analyst"
STYLE = Path(__file__).resolve().parent.parent / "static" / "dashboard.css"


def _signed_in() -> dict | None:
    """The analyst token row from the cookie, or None."""
    token = request.cookies.get(COOKIE, "")
    if not token:
        return None
    try:
        return tokens.authenticate_token(token, current_storage())
    except Unauthorized:
        return None


def axis_top(largest: float) -> float:
    """The value axis' top: the least 1, 2 or 5 times a power of ten at or above the largest value."""
    if largest <= 0:
        return 1
    power = 10 ** math.floor(math.log10(largest))
    return next(step * power for step in (1, 2, 5, 10) if largest <= step * power * (1 + 1e-9))


def chart(points: list[tuple[str, float]], text=lambda label, value: f"{label}: {numbers.number(value)}",
          labels: int = 8) -> dict:
    """Lay out a bar chart of (label, value) points: bars in a 100-by-100 box scaled to a round top (the SVG
    is stretched to its box), the value axis' ticks (top, half, zero), the time labels shown (every few, at
    most `labels`), and each bar's value written under its label when there are few bars. The labels and
    ticks are HTML, so they stay readable however narrow the screen is."""
    if not points:
        return {"bars": [], "ticks": []}
    top = axis_top(max(value for _, value in points))
    step = 100 / len(points)
    every = max(1, -(-len(points) // labels))
    bars = [{"label": label, "value": value, "text": text(label, value), "shown": i % every == 0,
             "x": round(i * step + step * 0.1, 3), "width": round(step * 0.8, 3),
             "height": round(value / top * 100, 3), "y": round(100 - value / top * 100, 3)}
            for i, (label, value) in enumerate(points)]
    return {"bars": bars, "ticks": [numbers.number(tick) if float(tick).is_integer() else f"{tick:,.1f}"
                                    for tick in (top, top / 2, 0)],
            "written": len(points) <= labels}


#: The headline cards: the overview's metrics, named as Plausible names them; a rise is bad for bounce rate.
CARDS = {"visitors": "Unique visitors", "visits": "Total visits", "pageviews": "Page views",
         "views_per_visit": "Views per visit", "bounce_rate": "Bounce rate", "visit_duration": "Visit duration",
         "orders": "Orders", "revenue": "Revenue", "average_order_value": "Average order value",
         "conversion_rate": "Conversion rate"}
_RISE_IS_BAD = {"bounce_rate"}
_VISIT_FIGURES = (("visitors", "Visitors", "number"), ("visits", "Visits", "number"),
                  ("bounce_rate", "Bounce", "percent"), ("visit_duration", "Duration", "duration"))
#: The table panels, in page order: (report, title, its columns as (name, heading, kind)).
TABLES = (
    ("sources", "Sources", (("source", "Source", "text"), *_VISIT_FIGURES)),
    ("utm_campaigns", "Campaigns (UTM)", (("utm_campaign", "Campaign", "text"), *_VISIT_FIGURES)),
    ("utm_sources", "UTM sources", (("utm_source", "Source", "text"), *_VISIT_FIGURES)),
    ("pages", "Top pages", (("page", "Page", "text"), ("visitors", "Visitors", "number"),
                            ("pageviews", "Page views", "number"))),
    ("entry_pages", "Entry pages", (("entry_page", "Page", "text"), ("unique_entrances", "Visitors", "number"),
                                    ("total_entrances", "Entrances", "number"), ("bounce_rate", "Bounce", "percent"))),
    ("exit_pages", "Exit pages", (("exit_page", "Page", "text"), ("unique_exits", "Visitors", "number"),
                                  ("total_exits", "Exits", "number"), ("exit_rate", "Exit rate", "percent"))),
    ("devices", "Devices", (("device", "Device", "text"), ("visitors", "Visitors", "number"),
                            ("percentage", "Share", "percent"))),
    ("browsers", "Browsers", (("browser", "Browser", "text"), ("visitors", "Visitors", "number"),
                              ("percentage", "Share", "percent"))),
    ("operating_systems", "Operating systems", (("os", "System", "text"), ("visitors", "Visitors", "number"),
                                                ("percentage", "Share", "percent"))),
)
#: Past this many rows a panel shows its first ones; its CSV has them all.
_SHOWN = 10


def _table(run, name: str, title: str, spec: tuple) -> dict:
    """One table panel: its formatted rows (the first _SHOWN) and how many there are."""
    columns, rows = run(name)
    picked = [columns.index(column) for column, _, _ in spec]
    body = [[numbers.cell(row[i], kind) for i, (_, _, kind) in zip(picked, spec, strict=True)] for row in rows]
    return {"name": name, "title": title, "headings": [heading for _, heading, _ in spec],
            "kinds": [kind for _, _, kind in spec], "rows": body[:_SHOWN], "total": len(body)}


def _cards(run) -> list[dict]:
    """The headline figures, formatted, with the change from the previous period."""
    cards = []
    for metric, value, previous, change, unit in run("overview")[1]:
        cards.append({"metric": metric, "label": CARDS[metric], "value": numbers.cell(value, unit),
                      "previous": numbers.cell(previous, unit), "change": change,
                      "good": None if not change else (change > 0) != (metric in _RISE_IS_BAD)})
    return cards


def _series(run) -> tuple[dict, int]:
    """The visitors time series as a chart, and its total visits."""
    _, rows = run("visitors")
    hourly = len(rows) > 1 and rows[0][0][:10] == rows[1][0][:10]
    points = [(row[0][11:13] + "h" if hourly else row[0][5:10], float(row[1])) for row in rows]
    laid = chart(points)
    for row, bar in zip(rows, laid["bars"], strict=True):
        bar["text"] = f"{row[0][:16].replace('T', ' ')}: {numbers.number(row[1])} visitors, " \
                      f"{numbers.number(row[2])} visits"
    return laid, sum(int(row[2]) for row in rows)


def _run(name: str, since: str, until: str, scope: sites.Scope, page: str | None) -> tuple[list[str], list[tuple]]:
    """One report for the page's sites, mode and period, filtered to the page's page where it takes one."""
    options = {"page": page} if page and "page" in registry.REPORTS[name].options else {}
    return registry.run(current_analytics(), name, since, until, scope.mode, scope.keys, **options)


def _panels(since: str, until: str, scope: sites.Scope, page: str | None) -> dict:
    """Run the reports the page shows, for the sites, mode and page chosen."""
    run = lambda name: _run(name, since, until, scope, page)  # noqa: E731
    per_day: dict[str, int] = {}
    for day, _type, n in run("events")[1]:
        per_day[day] = per_day.get(day, 0) + int(n)
    revenue_rows = run("revenue")[1]
    funnel = [{"step": step, "count": int(n), "share": start or 0, "previous": previous, "median": median}
              for step, n, previous, start, _dropped, median in run("funnel")[1]]
    series, visits = _series(run)
    return {
        "cards": _cards(run), "series": series, "series_visits": visits,
        "tables": [_table(run, *spec) for spec in TABLES],
        "events": chart([(day[5:], n) for day, n in sorted(per_day.items())]), "events_total": sum(per_day.values()),
        "funnel": funnel,
        "revenue": chart([(day[5:], float(total)) for day, _currency, _orders, total in revenue_rows]),
        "revenue_rows": revenue_rows,
        "products": run("products")[1], "searches": run("searches")[1], "items": run("items")[1],
        "clicks": run("clicks")[1], "rejected": run("rejected")[1],
        "recommendations": run("recommendations")[1], "holdout": run("holdout")[1],
    }


def _scope(token: dict) -> tuple[sites.Scope, str, str, str | None]:
    """The sites, mode and period the page's query asks for (ApiError or ValueError when it cannot)."""
    mode = request.args.get("mode") if request.args.get("mode") in sites.MODES else None
    site = request.args.get("site") or None
    scope = sites.choose(current_storage(), token, site, mode)
    since, until = registry.period(request.args.get("since"), request.args.get("until"))
    return scope, since, until, site


@bp.get("")
def page():
    """The sign-in form, or the dashboard for a signed-in analyst."""
    token = _signed_in()
    if token is None:
        return render_template("signin.html", error=request.args.get("error"))
    note(key_name=f"analyst:{token['name']}")
    try:
        scope, since, until, site = _scope(token)
    except (ValueError, ApiError) as exc:
        status = exc.status if isinstance(exc, ApiError) else 400
        return render_template("signin.html", error=getattr(exc, "message", str(exc))), status
    page = request.args.get("page") or None
    query = urlencode({name: request.args[name] for name in ("site", "since", "until", "mode", "page")
                       if request.args.get(name)})
    return render_template("dashboard.html", name=token["name"], mode=scope.mode, since=since, until=until,
                           since_arg=request.args.get("since") or "7d", until_arg=request.args.get("until") or "",
                           site=site, sites=sites.readable(current_storage(), token), query=query, fmt=numbers,
                           page=page or "", **_panels(since, until, scope, page))


@bp.get("/reports/<name>.csv")
def download(name: str):
    """One panel's report as CSV, for the signed-in analyst, over the page's site, mode and period."""
    token = _signed_in()
    if token is None:
        raise Unauthorized("Sign in at /dashboard first.")
    note(key_name=f"analyst:{token['name']}")
    if name not in registry.REPORTS:
        raise NotFound(f"No report {name!r}.")
    try:
        scope, since, until, _ = _scope(token)
    except ValueError as exc:
        raise BadParameter(str(exc)) from None
    columns, rows = _run(name, since, until, scope, request.args.get("page") or None)
    return csv_download(name, scope.mode, since, until, columns, rows)


@bp.post("/login")
def login():
    """Check the token from the form and keep it in an HttpOnly, SameSite=Strict cookie."""
    token = request.form.get("token", "").strip()
    try:
        tokens.authenticate_token(token, current_storage())
    except Unauthorized:
        return redirect("/dashboard?error=That+token+is+unknown+or+revoked.", code=303)
    response = redirect("/dashboard", code=303)
    response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", secure=request.is_secure,
                        path="/dashboard", max_age=12 * 3600)
    return response


@bp.post("/logout")
def logout():
    """Forget the token."""
    response = redirect("/dashboard", code=303)
    response.delete_cookie(COOKIE, path="/dashboard")
    return response


@bp.get("/style.css")
def style():
    """The dashboard's stylesheet (no inline styles: the CSP forbids them)."""
    return Response(STYLE.read_text(), content_type="text/css; charset=utf-8",
                    headers={"Cache-Control": "public, max-age=3600"})
