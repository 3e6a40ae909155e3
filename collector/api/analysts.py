"""The analysts' API, for analyst tokens only: `GET /v1/reports/<name>` and `GET /v1/export`, each over a
period (`since`, `until`), a mode and a site (`site`: a key or its name; default every site the token
may read)."""

from __future__ import annotations

from flask import Blueprint
from flask import Response
from flask import request

from ..access import sites
from ..access import tokens
from ..errors import BadParameter
from ..errors import NotFound
from ..reports import exports
from ..reports import registry
from ..web.context import current_analytics
from ..web.context import current_storage
from ..web.logs import note

bp = Blueprint("reports", __name__)
#: What an export answers with, per format.
_MEDIA = {"csv": "text/csv; charset=utf-8", "ndjson": "application/x-ndjson",
          "parquet": "application/vnd.apache.parquet"}


def _request() -> tuple[sites.Scope, str, str]:
    """The analyst's token checked, and the scope and period the request asks for (403 for a site the
    token may not read)."""
    storage = current_storage()
    token = tokens.authenticate(request, storage)
    note(key_name=f"analyst:{token['name']}")
    scope = sites.choose(storage, token, request.args.get("site"), request.args.get("mode"))
    try:
        since, until = registry.period(request.args.get("since"), request.args.get("until"))
    except ValueError as exc:
        raise BadParameter(str(exc)) from None
    return scope, since, until


def csv_download(name: str, mode: str, since: str, until: str, columns: list[str], rows: list[tuple]) -> Response:
    """A report as a CSV download named after it, its mode and its period."""
    return Response(registry.as_csv(columns, rows), content_type=_MEDIA["csv"], headers={
        "Content-Disposition": f'attachment; filename="{name}-{mode}-{since[:10]}-{until[:10]}.csv"'})


@bp.get("/v1/reports/<name>")
def report(name: str):
    """Run one report over a period, mode and site and answer its columns and rows."""
    scope, since, until = _request()
    if name not in registry.REPORTS:
        raise NotFound(f"No report {name!r}; reports are: {', '.join(sorted(registry.REPORTS))}.")
    options = {option: request.args[option] for option in registry.OPTIONS if option in request.args}
    try:
        columns, rows = registry.run(current_analytics(), name, since, until, scope.mode, scope.keys, **options)
    except ValueError as exc:
        raise BadParameter(str(exc)) from None
    fmt = request.args.get("format", "json")
    if fmt == "csv":
        return csv_download(name, scope.mode, since, until, columns, rows)
    if fmt != "json":
        raise BadParameter("format must be json or csv.")
    return {"report": name, "title": registry.REPORTS[name].title, "site": request.args.get("site"),
            "mode": scope.mode, "since": since, "until": until, "columns": columns, "rows": rows}


@bp.get("/v1/export")
def export():
    """Stream a site's events of a period as CSV, NDJSON or Parquet (`format`), `type` repeatable."""
    scope, since, until = _request()
    fmt = request.args.get("format", "csv")
    if fmt not in exports.FORMATS:
        raise BadParameter(f"format must be one of {', '.join(exports.FORMATS)}.")
    types = tuple(request.args.getlist("type"))
    pieces = exports.pieces(exports.rows(current_analytics(), scope.mode, since, until, types, scope.keys), fmt)
    if fmt == "parquet":
        try:
            first = next(pieces)  # pyarrow is there (or the answer is a 400, not a broken stream)
        except ValueError as exc:
            raise BadParameter(str(exc)) from None
        pieces = (part for parts in ([first], pieces) for part in parts)
    name = f"events-{scope.mode}-{since[:10]}-{until[:10]}.{fmt}"
    return Response(pieces, content_type=_MEDIA[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
