"""What the CLI's commands share: the group that turns collector errors into exit 1, options, output."""

from __future__ import annotations

import json

import click
from tabulate import tabulate

from ..errors import CollectorError
from ..reports import registry

#: How rows can be printed.
ROW_FORMATS = ("table", "csv", "json", "ndjson")


class CollectorGroup(click.Group):
    """A command group in which an error of the store, the settings or a query ends the command with its
    message on stderr and exit status 1 (the one place the CLI handles them)."""

    def invoke(self, ctx: click.Context):
        """Run the command; a CollectorError becomes a clean CLI error."""
        try:
            return super().invoke(ctx)
        except CollectorError as exc:
            raise click.ClickException(str(exc)) from None


def period_options(command):
    """--since, --until, --mode and --site: the period, mode and site every analyst command reads."""
    command = click.option("--site", default=None,
                           help="One site: a publishable key or its name (default: every site).")(command)
    command = click.option("--mode", type=click.Choice(["live", "test"]), default=None,
                           help="live or test (default: the site's mode, else live).")(command)
    command = click.option("--until", default=None, help="End (exclusive): same forms; default now.")(command)
    return click.option("--since", default="7d", show_default=True,
                        help="Start: 7d, 12h, 30m ago, or an ISO date (UTC).")(command)


def format_option(choices=ROW_FORMATS, default: str = "table"):
    """--format, among these choices."""
    return click.option("--format", "fmt", type=click.Choice(choices), default=default, show_default=True)


def print_rows(columns: list[str], rows: list[tuple], fmt: str) -> None:
    """Print query or report results as a table, CSV, JSON or NDJSON."""
    if fmt == "json":
        click.echo(json.dumps([dict(zip(columns, row, strict=True)) for row in rows], ensure_ascii=False, indent=1,
                              default=str))
    elif fmt == "ndjson":
        for row in rows:
            click.echo(json.dumps(dict(zip(columns, row, strict=True)), ensure_ascii=False, default=str))
    elif fmt == "csv":
        click.echo(registry.as_csv(columns, rows), nl=False)
    else:
        click.echo(tabulate(rows, headers=columns))
