"""`collector query`, `report`, `export` and `copy`: reading the store and moving it."""

from __future__ import annotations

import contextlib
import os
import shlex
import sys
import time

import click
from flask import current_app
from tqdm import tqdm

from ..access import sites
from ..reports import exports
from ..reports import registry
from ..storage import open_storage
from ..storage.copy import copy_store
from ..web.context import current_analytics
from ..web.context import current_storage
from .common import format_option
from .common import period_options
from .common import print_rows


@click.command()
@click.argument("sql")
@format_option()
def query(sql, fmt):
    """Run a read-only SQL query against the store."""
    columns, rows = current_storage().query(sql)
    print_rows(columns, rows, fmt)


class _ReportCommand(click.Command):
    """`collector report`: its help ends with the reports' names and what each holds."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List the reports, each title wrapped at word boundaries beside its name."""
        with formatter.section("Reports"):
            formatter.write_dl([(name, registry.REPORTS[name].title) for name in sorted(registry.REPORTS)])


@click.command(cls=_ReportCommand)
# A named metavar: click prints a Choice's values as one word, which the help then breaks mid-name.
@click.argument("name", type=click.Choice(sorted(registry.REPORTS)), metavar="NAME")
@period_options
@click.option("--steps", help="funnel: the steps, e.g. 'pageview:product,viewcart,order:completed' "
                              "(type[:subtype][column=value], 2 to 8).")
@click.option("--window", help="funnel: `session` (the default), or Nh / Nd per visitor from the first step.")
@click.option("--breakdown", help="funnel: one funnel per value of device, browser, os, utm_source, utm_medium, "
                                  "utm_campaign, page_path, platform or country (of the first step's event).")
@click.option("--page", help="overview, visitors, pages, entry_pages, exit_pages: the visits that viewed this page "
                             "(a path such as /p/lamp), or this page's row.")
@format_option()
def report(name, since, until, mode, site, steps, window, breakdown, page, fmt):
    """Run the analyst report NAME (listed below) over a period."""
    scope = sites.choose(current_storage(), None, site, mode)
    try:
        start, end = registry.period(since, until)
        columns, rows = registry.run(current_analytics(), name, start, end, scope.mode, scope.keys, steps=steps,
                                    window=window, breakdown=breakdown, page=page)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    click.echo(f"{registry.REPORTS[name].title} ({site or 'every site'}, {scope.mode}, {start} to {end})", err=True)
    print_rows(columns, rows, fmt)


@click.command()
@period_options
@click.option("--type", "types", multiple=True, help="Only events of this type (repeatable), e.g. order.")
@format_option(exports.FORMATS, default="csv")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), help="File to write; default stdout.")
def export(since, until, mode, site, types, fmt, out):
    """Stream events to CSV, NDJSON or Parquet, in constant memory, with a progress bar on a terminal."""
    try:
        start, end = registry.period(since, until)
        if fmt == "parquet" and not out:
            raise ValueError("Parquet is written to a file: give --out FILE")
        storage = current_storage()
        scope = sites.choose(storage, None, site, mode)
        mode = scope.mode
        total = exports.count(current_analytics(), mode, start, end, types, scope.keys)
        binary = fmt == "parquet"
        with (open(out, "wb" if binary else "w", newline="" if not binary else None) if out else
              contextlib.nullcontext(sys.stdout)) as stream, \
                tqdm(total=total, unit="events", disable=not sys.stderr.isatty()) as bar:
            written = exports.write(exports.rows(current_analytics(), mode, start, end, types, scope.keys), fmt, stream,
                                     bar.update)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    click.echo(f"{written} events exported ({mode}, {start} to {end})", err=True)


@click.command("copy")
@click.option("--from", "source_url", required=True, help="The store to read, e.g. sqlite:///collector.sqlite3.")
@click.option("--to", "dest_url", required=True, help="The store to fill, e.g. postgresql://user@host/db.")
def copy_command(source_url, dest_url):
    """Copy every key, target, token, suppressed id, event, rejected and outbox row; safe to run again
    (rows present are skipped)."""
    with contextlib.ExitStack() as stack:
        source, dest = (open_storage({**current_app.config, "DATABASE_URL": url}) for url in (source_url, dest_url))
        source.creates_store = False  # the store to fill is created; a mistyped source is not
        for storage in (source, dest):
            stack.callback(storage.close)
        with tqdm(total=source.count_rows(), unit="rows", disable=not sys.stderr.isatty()) as bar:
            added = copy_store(source, dest, bar.update)
    click.echo(", ".join(f"{table}: {n} added" for table, n in added.items()), err=True)


@click.command()
@click.argument("path", type=click.Path(dir_okay=False))
def backup(path):
    """Copy a running SQLite store to PATH, consistent as of one moment, without stopping ingest (on
    PostgreSQL: print the pg_dump command to run instead)."""
    storage = current_storage()
    if storage.dialect.name == "postgres":
        from ..storage.postgres import url_without_password  # psycopg is there: the store is PostgreSQL

        url = url_without_password(storage.url)
        click.echo(f"pg_dump --format=custom --file {shlex.quote(path)} {shlex.quote(url)}")
        click.echo("PostgreSQL: run the command above (pg_dump reads one consistent snapshot while ingest goes "
                   "on; the password from ~/.pgpass or PGPASSWORD); restore into an empty database with "
                   "pg_restore --dbname URL PATH. See docs/deploy.md.", err=True)
        return
    if os.path.exists(path):
        raise click.ClickException(f"{path} exists: give a new file")
    started = time.monotonic()
    size = storage.backup(path)
    click.echo(f"backed up {size:,} bytes to {path} in {time.monotonic() - started:.1f} s", err=True)
    click.echo(f"to restore: stop the collector and its worker, move {path} over {storage.path} (and "
               f"{path}-uploads over {storage.path}-uploads if it exists), remove {storage.path}-wal and "
               f"{storage.path}-shm, start them again", err=True)

