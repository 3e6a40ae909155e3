"""The `collector` command: migrations, keys and read-only queries."""

from __future__ import annotations

import contextlib
import csv
import json
import sys
import time
from datetime import timedelta

import click
from flask import current_app
from tabulate import tabulate
from tqdm import tqdm

from . import analysts
from . import create_app
from . import export as exporter
from . import keys as key_store
from . import reports
from .clock import iso
from .clock import now_iso
from .clock import utcnow
from .config import ConfigError
from .forward.runner import Forwarder
from .forward.signing import new_secret
from .logs import log
from .storage import QueryError
from .storage import StorageError
from .storage import copy as store_copy
from .storage import current_storage
from .storage import open_storage


@click.group(help="Storefront event collector. Settings come from COLLECTOR_* environment variables.")
@click.pass_context
def main(ctx):
    """Build the app from the environment and run the command inside its context."""
    try:
        app = create_app()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    ctx.with_resource(app.app_context())


@main.command()
def migrate():
    """Apply pending schema migrations."""
    try:
        applied = current_storage().migrate()
    except StorageError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo("applied: " + ", ".join(applied) if applied else "schema is up to date", err=True)


@main.group()
def keys():
    """Create, list and revoke publishable keys."""


@keys.command("create")
@click.option("--name", required=True, help="What the key is for, shown in logs and lists.")
@click.option("--origin", "origins", multiple=True,
              help="An origin allowed to send with this key (repeatable); none allows every origin.")
@click.option("--test", is_flag=True, help="Make a test_ key, whose events are kept apart from live ones.")
def keys_create(name, origins, test):
    """Create a key and print it alone on stdout."""
    try:
        key = key_store.create_key(current_storage(), name, list(origins), test=test)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--origin") from None
    if not origins and not test:
        click.echo("warning: this live key accepts events from any origin; pass --origin to restrict it",
                   err=True)
    click.echo(key)


@keys.command("ensure")
@click.option("--name", required=True)
def keys_ensure(name):
    """Print the active key with this name, creating it first if there is none."""
    key = key_store.find_active(current_storage(), name) or key_store.create_key(current_storage(), name, [])
    click.echo(key)


@keys.command("list")
def keys_list():
    """Show every key with its name, mode, origins and dates."""
    rows = [(k["key"], k["name"], k["mode"], ", ".join(json.loads(k["origins"])) or "(any)",
             k["created_at"], k["revoked_at"] or "") for k in current_storage().list_keys()]
    click.echo(tabulate(rows, headers=["key", "name", "mode", "origins", "created", "revoked"]))


@keys.command("revoke")
@click.argument("key")
def keys_revoke(key):
    """Revoke a key: its requests are refused with 403 from now on."""
    if not current_storage().revoke_key(key, now_iso()):
        raise click.ClickException("no such active key")
    click.echo("revoked", err=True)


@main.command()
@click.argument("sql")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json", "ndjson"]), default="table",
              show_default=True)
def query(sql, fmt):
    """Run a read-only SQL query against the store."""
    try:
        columns, rows = current_storage().query(sql)
    except (QueryError, StorageError) as exc:
        raise click.ClickException(str(exc)) from None
    _print_rows(columns, rows, fmt)


def _print_rows(columns: list[str], rows: list[tuple], fmt: str) -> None:
    """Print query or report results as a table, CSV, JSON or NDJSON."""
    if fmt == "json":
        click.echo(json.dumps([dict(zip(columns, row, strict=True)) for row in rows], ensure_ascii=False, indent=1,
                              default=str))
    elif fmt == "ndjson":
        for row in rows:
            click.echo(json.dumps(dict(zip(columns, row, strict=True)), ensure_ascii=False, default=str))
    elif fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
    else:
        click.echo(tabulate(rows, headers=columns))


@main.command()
@click.argument("name", type=click.Choice(sorted(reports.REPORTS)))
@click.option("--since", default="7d", show_default=True, help="Start: 7d, 12h, 30m ago, or an ISO date (UTC).")
@click.option("--until", default=None, help="End (exclusive): same forms; default now.")
@click.option("--mode", type=click.Choice(["live", "test"]), default="live", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json", "ndjson"]), default="table",
              show_default=True)
def report(name, since, until, mode, fmt):
    """Run an analyst report over a period (see `collector report --help` for the names)."""
    try:
        start, end = reports.period(since, until)
        columns, rows = reports.run(current_storage(), name, start, end, mode)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    except (QueryError, StorageError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{reports.REPORTS[name].title} ({mode}, {start} to {end})", err=True)
    _print_rows(columns, rows, fmt)


@main.command()
@click.option("--since", default="7d", show_default=True, help="Start: 7d, 12h, 30m ago, or an ISO date (UTC).")
@click.option("--until", default=None, help="End (exclusive): same forms; default now.")
@click.option("--type", "types", multiple=True, help="Only events of this type (repeatable), e.g. order.")
@click.option("--mode", type=click.Choice(["live", "test"]), default="live", show_default=True)
@click.option("--format", "fmt", type=click.Choice(exporter.FORMATS), default="csv", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, writable=True), help="File to write; default stdout.")
def export(since, until, types, mode, fmt, out):
    """Stream events to CSV, NDJSON or Parquet, in constant memory, with a progress bar on a terminal."""
    try:
        start, end = reports.period(since, until)
        storage = current_storage()
        total = exporter.count(storage, mode, start, end, types)
        if fmt == "parquet" and not out:
            raise ValueError("Parquet is written to a file: give --out FILE")
        binary = fmt == "parquet"
        with (open(out, "wb" if binary else "w", newline="" if not binary else None) if out else
              contextlib.nullcontext(sys.stdout)) as stream, \
                tqdm(total=total, unit="events", disable=not sys.stderr.isatty()) as bar:
            written = exporter.write(exporter.rows(storage, mode, start, end, types), fmt, stream, bar.update)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    except (QueryError, StorageError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{written} events exported ({mode}, {start} to {end})", err=True)


@main.group()
def tokens():
    """Analyst tokens for the reports API and the dashboard."""


@tokens.command("create")
@click.option("--name", required=True, help="Who or what the token is for.")
def tokens_create(name):
    """Create a token and print it alone on stdout; only its hash is stored, so keep it now."""
    click.echo(analysts.create_token(current_storage(), name))


@tokens.command("list")
def tokens_list():
    """Show every token's id, name and dates (never the token)."""
    rows = [(t["id"], t["name"], t["created_at"], t["revoked_at"] or "") for t in current_storage().list_tokens()]
    click.echo(tabulate(rows, headers=["id", "name", "created", "revoked"]))


@tokens.command("revoke")
@click.argument("token_id", type=int)
def tokens_revoke(token_id):
    """Revoke a token by its id."""
    if not current_storage().revoke_token(token_id, now_iso()):
        raise click.ClickException("no such active token")


@main.group()
def forward():
    """Forward a key's events to DataCue, Cobi or a signed webhook."""


@forward.command("add")
@click.argument("key")
@click.option("--datacue", "datacue_url", metavar="URL", help="DataCue API base URL (events go to URL/v1/events).")
@click.option("--upstream-key", help="The DataCue API key to send with.")
@click.option("--cobi", "cobi_url", metavar="URL", help="Cobi API base URL (interactions go to URL/user-interactions).")
@click.option("--upstream-token", help="The Cobi bearer token to send with.")
@click.option("--webhook", "webhook_url", metavar="URL", help="A URL that takes signed batches of events.")
@click.option("--secret", help="Webhook signing secret (whsec_...); one is made and printed when omitted.")
@click.option("--store/--no-store", default=None, help="Also keep the key's events in `events` (default: yes).")
def forward_add(key, datacue_url, upstream_key, cobi_url, upstream_token, webhook_url, secret, store):
    """Add one forward target to KEY and print its id."""
    chosen = [(kind, url) for kind, url in (("datacue", datacue_url), ("cobi", cobi_url), ("webhook", webhook_url))
              if url]
    if len(chosen) != 1:
        raise click.UsageError("give exactly one of --datacue, --cobi, --webhook")
    kind, url = chosen[0]
    if not url.startswith(("http://", "https://")):
        raise click.BadParameter(f"not an http(s) URL: {url}")
    credential = {"datacue": upstream_key, "cobi": upstream_token, "webhook": secret}[kind]
    if kind == "webhook" and not credential:
        credential = new_secret()
        click.echo(f"webhook signing secret (give it to the receiver): {credential}", err=True)
    if not credential:
        raise click.UsageError(f"--{kind} needs {'--upstream-key' if kind == 'datacue' else '--upstream-token'}")
    try:
        target_id = current_storage().add_target(key, kind, url, credential, now_iso())
    except KeyError:
        raise click.ClickException("no such key") from None
    if store is not None:
        current_storage().set_store(key, store)
    click.echo(target_id)


@forward.command("store")
@click.argument("key")
@click.argument("choice", type=click.Choice(["yes", "no"]))
def forward_store(key, choice):
    """Choose whether KEY's events are kept in `events` as well as forwarded."""
    if not current_storage().set_store(key, choice == "yes"):
        raise click.ClickException("no such key")


@forward.command("list")
def forward_list():
    """Show every forward target (secrets shortened)."""
    rows = [(t["id"], t["name"], t["kind"], t["url"], t["secret"][:6] + "…", "yes" if t["store_events"] else "no")
            for t in current_storage().list_targets()]
    click.echo(tabulate(rows, headers=["id", "key name", "kind", "url", "secret", "stores events"]))


@forward.command("remove")
@click.argument("target_id", type=int)
def forward_remove(target_id):
    """Stop forwarding to a target; rows already in the outbox stay for inspection."""
    if not current_storage().remove_target(target_id, now_iso()):
        raise click.ClickException("no such active target")


@forward.command("run")
@click.option("--once", is_flag=True, help="Exit when nothing is due instead of waiting for more.")
def forward_run(once):
    """Drain the outbox until SIGTERM: claim due rows, send them, record the outcome."""
    Forwarder(current_storage(), current_app.config).run(once=once)


@main.group()
def outbox():
    """Inspect and repair the forwarding outbox."""


@outbox.command("status")
def outbox_status():
    """Counts by target and state, and the age of the oldest pending row."""
    rows = [(r["target_id"], r["kind"], r["url"], r["state"], r["count"],
             "" if r["oldest_seconds"] is None else f"{r['oldest_seconds']:.0f}s")
            for r in current_storage().outbox_status(time.time())]
    click.echo(tabulate(rows, headers=["target", "kind", "url", "state", "rows", "oldest pending"]))


@outbox.command("retry")
@click.option("--target", "target_id", type=int, help="Only this target's dead rows.")
def outbox_retry(target_id):
    """Put dead rows back in the queue."""
    click.echo(f"{current_storage().retry_dead(time.time(), target_id)} rows queued again", err=True)


@main.command()
@click.option("--user-id", help="The user id to erase.")
@click.option("--anonymous-id", help="The anonymous id to erase.")
@click.option("--suppress", is_flag=True, help="Also refuse this person's later events (only a hash is kept).")
def forget(user_id, anonymous_id, suppress):
    """Erase a person: events, lines, outbox rows and rejected bodies that name them, and the ids linked to
    theirs (an anonymous id seen with their user id, and the other way round)."""
    if not user_id and not anonymous_id:
        raise click.UsageError("give --user-id or --anonymous-id")
    counts = _storage_call(lambda storage: storage.forget(user_id, anonymous_id, suppress, now_iso()))
    # Logged without the ids: the log must not keep what was just erased.
    summary = ", ".join(f"{n} {name}" for name, n in counts.items())
    log.info("forget: erased %s%s", summary, "; later events suppressed" if suppress else "")
    click.echo(json.dumps(dict(counts, suppressed=suppress)))


@main.command()
@click.option("--older-than", "days", type=click.IntRange(min=1), required=True,
              help="Delete what was received more than this many days ago.")
def prune(days):
    """Retention: delete events, their lines and rejected rows older than DAYS, and finished outbox rows."""
    before = utcnow() - timedelta(days=days)
    counts = _storage_call(lambda storage: storage.prune(iso(before), before.timestamp()))
    log.info("prune: deleted what was received before %s: %s", iso(before),
             ", ".join(f"{n} {name}" for name, n in counts.items()))
    click.echo(json.dumps(counts))


def _storage_call(action):
    """Run a storage action; unavailability becomes a clean CLI error."""
    try:
        return action(current_storage())
    except StorageError as exc:
        raise click.ClickException(str(exc)) from None


@main.command("copy")
@click.option("--from", "source_url", required=True, help="The store to read, e.g. sqlite:///collector.sqlite3.")
@click.option("--to", "dest_url", required=True, help="The store to fill, e.g. postgresql://user@host/db.")
def copy_command(source_url, dest_url):
    """Copy every key, target, event, rejected and outbox row; safe to run again (rows present are skipped)."""
    source = dest = None
    try:
        source = open_storage({**current_app.config, "DATABASE_URL": source_url})
        dest = open_storage({**current_app.config, "DATABASE_URL": dest_url})
        with tqdm(total=store_copy.count(source), unit="rows", disable=not sys.stderr.isatty()) as bar:
            added = store_copy.copy_store(source, dest, bar.update)
    except (ConfigError, StorageError) as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        for storage in (source, dest):
            if storage is not None:
                storage.close()
    click.echo(", ".join(f"{table}: {n} added" for table, n in added.items()), err=True)


if __name__ == "__main__":
    main()
