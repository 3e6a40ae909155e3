"""`collector keys`: publishable keys."""

from __future__ import annotations

import json

import click
from tabulate import tabulate

from .. import keys as key_store
from .. import server_keys
from ..clock import now_iso
from ..storage import current_storage
from .common import CollectorGroup


@click.group(cls=CollectorGroup)
def keys():
    """Create, list and revoke publishable keys and their sites' secret server keys."""


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


@keys.group("secret", cls=CollectorGroup)
def secret():
    """Secret server keys: what a shop's servers send to the Data API and the backend API."""


def site_key(storage, key_or_name: str) -> str:
    """A key given by its value or by the name of an active key."""
    if storage.get_key(key_or_name) is not None:
        return key_or_name
    found = key_store.find_active(storage, key_or_name)
    if found is None:
        raise click.ClickException(f"no such key: {key_or_name}")
    return found


@secret.command("create")
@click.argument("key")
def secret_create(key):
    """Make a secret for KEY's site (a key or the name of one) and print it once, alone on stdout."""
    storage = current_storage()
    click.echo(server_keys.create_server_key(storage, site_key(storage, key)))
    click.echo("keep it on your servers: it is not shown again, and it must never reach a browser", err=True)


@secret.command("list")
@click.argument("key", required=False)
def secret_list(key):
    """Show the secrets of KEY's site (or of every site) by their prefix; never the secrets."""
    storage = current_storage()
    rows = [(s["id"], s["prefix"] + "…", s["key"], s["name"], s["created_at"], s["revoked_at"] or "")
            for s in storage.list_server_keys(site_key(storage, key) if key else None)]
    click.echo(tabulate(rows, headers=["id", "secret", "key", "name", "created", "revoked"]))


@secret.command("revoke")
@click.argument("secret_id", type=int)
def secret_revoke(secret_id):
    """Revoke a secret by its id (from list): refused with 401 from now on, within the key cache time."""
    if not current_storage().revoke_server_key(secret_id, now_iso()):
        raise click.ClickException("no such active secret")
    click.echo("revoked", err=True)
