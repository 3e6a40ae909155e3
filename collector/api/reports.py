"""The reports API: `GET /v1/reports/<name>?since=&until=&mode=`, for analyst tokens only."""

from __future__ import annotations

from flask import Blueprint
from flask import g
from flask import request

from .. import analysts
from .. import reports
from ..errors import BadParameter
from ..errors import NotFound
from ..storage import current_storage

bp = Blueprint("reports", __name__)


@bp.get("/v1/reports/<name>")
def report(name: str):
    """Run one report over a period and mode and answer its columns and rows."""
    storage = current_storage()
    token = analysts.authenticate(request, storage)
    g.key_name = f"analyst:{token['name']}"
    if name not in reports.REPORTS:
        raise NotFound(f"No report {name!r}; reports are: {', '.join(sorted(reports.REPORTS))}.")
    mode = request.args.get("mode", "live")
    if mode not in ("live", "test"):
        raise BadParameter("mode must be live or test.")
    try:
        since, until = reports.period(request.args.get("since"), request.args.get("until"))
    except ValueError as exc:
        raise BadParameter(str(exc)) from None
    columns, rows = reports.run(storage, name, since, until, mode)
    return {"report": name, "title": reports.REPORTS[name].title, "mode": mode, "since": since, "until": until,
            "columns": columns, "rows": rows}
