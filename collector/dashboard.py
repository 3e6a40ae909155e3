"""The dashboard at /dashboard: server-rendered HTML and SVG charts over the reports, for analyst tokens."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint
from flask import Response
from flask import g
from flask import redirect
from flask import render_template
from flask import request

from . import analysts
from . import reports
from . import sites
from .errors import ApiError
from .errors import Unauthorized
from .storage import current_storage

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

COOKIE = "collector_analyst"
STYLE = Path(__file__).resolve().parent / "static" / "dashboard.css"


def _signed_in() -> dict | None:
    """The analyst token row from the cookie, or None."""
    token = request.cookies.get(COOKIE, "")
    if not token:
        return None
    try:
        return analysts.authenticate_token(token, current_storage())
    except Unauthorized:
        return None


def bars(points: list[tuple[str, float]], width: int = 640, height: int = 160) -> list[dict]:
    """Lay out a bar chart: one bar per (label, value), scaled to the largest value."""
    if not points:
        return []
    top = max(value for _, value in points) or 1
    step = width / len(points)
    return [{"label": label, "value": value, "x": round(i * step + step * 0.1, 1), "width": round(step * 0.8, 1),
             "height": round(value / top * (height - 20), 1), "y": round(height - value / top * (height - 20), 1)}
            for i, (label, value) in enumerate(points)]


def _panels(since: str, until: str, scope: sites.Scope) -> dict:
    """Run the reports the page shows, for the sites and mode chosen."""
    run = lambda name: reports.run(current_storage(), name, since, until, scope.mode, scope.keys)  # noqa: E731
    per_day: dict[str, int] = {}
    for day, _type, n in run("events")[1]:
        per_day[day] = per_day.get(day, 0) + int(n)
    revenue_rows = run("revenue")[1]
    funnel = [{"step": step, "count": int(n), "share": start or 0, "previous": previous, "median": median}
              for step, n, previous, start, _dropped, median in run("funnel")[1]]
    return {
        "events": bars(sorted(per_day.items())), "events_total": sum(per_day.values()), "funnel": funnel,
        "revenue": bars([(day, float(total)) for day, _currency, _orders, total in revenue_rows]),
        "revenue_rows": revenue_rows,
        "products": run("products")[1], "searches": run("searches")[1], "items": run("items")[1],
        "rejected": run("rejected")[1],
    }


@bp.get("")
def page():
    """The sign-in form, or the dashboard for a signed-in analyst."""
    token = _signed_in()
    if token is None:
        return render_template("signin.html", error=request.args.get("error"))
    g.key_name = f"analyst:{token['name']}"
    storage = current_storage()
    mode = request.args.get("mode") if request.args.get("mode") in sites.MODES else None
    site = request.args.get("site") or None
    try:
        scope = sites.choose(storage, token, site, mode)
        since, until = reports.period(request.args.get("since"), request.args.get("until"))
    except (ValueError, ApiError) as exc:
        status = exc.status if isinstance(exc, ApiError) else 400
        return render_template("signin.html", error=getattr(exc, "message", str(exc))), status
    return render_template("dashboard.html", name=token["name"], mode=scope.mode, since=since, until=until,
                           since_arg=request.args.get("since") or "7d", until_arg=request.args.get("until") or "",
                           site=site, sites=sites.readable(storage, token), **_panels(since, until, scope))


@bp.post("/login")
def login():
    """Check the token from the form and keep it in an HttpOnly, SameSite=Strict cookie."""
    token = request.form.get("token", "").strip()
    try:
        analysts.authenticate_token(token, current_storage())
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
