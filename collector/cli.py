"""The `collector` command: migrations, keys and read-only queries."""

from __future__ import annotations

import csv
import json
import sys

import click
from flask import current_app
from tabulate import tabulate

from . import create_app
from . import keys as key_store
from .clock import now_iso
from .config import ConfigError
from .storage import QueryError
from .storage import StorageError


def _storage():
    """Return the storage of the app the command runs in."""
    return current_app.extensions["collector.storage"]


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
        applied = _storage().migrate()
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
        key = key_store.create_key(_storage(), name, list(origins), test=test)
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
    key = key_store.find_active(_storage(), name) or key_store.create_key(_storage(), name, [])
    click.echo(key)


@keys.command("list")
def keys_list():
    """Show every key with its name, mode, origins and dates."""
    rows = [(k["key"], k["name"], k["mode"], ", ".join(json.loads(k["origins"])) or "(any)",
             k["created_at"], k["revoked_at"] or "") for k in _storage().list_keys()]
    click.echo(tabulate(rows, headers=["key", "name", "mode", "origins", "created", "revoked"]))


@keys.command("revoke")
@click.argument("key")
def keys_revoke(key):
    """Revoke a key: its requests are refused with 403 from now on."""
    if not _storage().revoke_key(key, now_iso()):
        raise click.ClickException("no such active key")
    click.echo("revoked", err=True)


@main.command()
@click.argument("sql")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
def query(sql, fmt):
    """Run a read-only SQL query against the store."""
    try:
        columns, rows = _storage().query(sql)
    except (QueryError, StorageError) as exc:
        raise click.ClickException(str(exc)) from None
    if fmt == "json":
        click.echo(json.dumps([dict(zip(columns, row, strict=True)) for row in rows], ensure_ascii=False, indent=1))
    elif fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
    else:
        click.echo(tabulate(rows, headers=columns))
if __name__ == "__main__":
    main()
