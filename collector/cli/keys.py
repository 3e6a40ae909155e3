"""`collector keys`: publishable keys."""

from __future__ import annotations

import json

import click
from tabulate import tabulate

from .. import keys as key_store
from ..clock import now_iso
from ..storage import current_storage
from .common import CollectorGroup


@click.group(cls=CollectorGroup)
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
