"""`collector keys`: publishable keys."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import click
from tabulate import tabulate

from ..access import server_keys
from ..access.keys import create_key
from ..access.keys import find_active
from ..access.keys import rotate_key
from ..access.keys import site_of
from ..clock import now_iso
from ..web.context import current_storage
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
        key = create_key(current_storage(), name, list(origins), test=test)
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
    key = find_active(current_storage(), name) or create_key(current_storage(), name, [])
    click.echo(key)


@keys.command("list")
def keys_list():
    """Show every key with its name, mode, origins, dates, and the site a rotated key's successor serves."""
    rows = [(k["key"], k["name"], k["mode"], ", ".join(json.loads(k["origins"])) or "(any)",
             k["created_at"], k["revoked_at"] or "", k["expires_at"] or "", k["site"] or "")
            for k in current_storage().list_keys()]
    click.echo(tabulate(rows, headers=["key", "name", "mode", "origins", "created", "revoked", "valid until",
                                       "site (rotated from)"]))


_SPAN = re.compile(r"^(\d+)([dhms])$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


def overlap_option(function):
    """The --overlap option of a rotation: how long the old key or secret keeps working."""

    def parse(ctx, param, value: str) -> timedelta:
        """'7d', '12h', '30m', '45s' or '0' as a timedelta."""
        if value == "0":
            return timedelta(0)
        match = _SPAN.match(value.strip())
        if not match:
            raise click.BadParameter("give a number and a unit: 7d, 12h, 30m, 45s (or 0)")
        return timedelta(**{_UNITS[match[2]]: int(match[1])})

    return click.option("--overlap", default="7d", show_default=True, callback=parse,
                        help="How long the old one keeps working beside the new one.")(function)


@keys.command("rotate")
@click.argument("key")
@overlap_option
def keys_rotate(key, overlap):
    """Issue KEY's successor and print it alone on stdout: the same site (its events, records, targets and
    secrets), name, mode and origins. KEY keeps working for the overlap, then is refused with 403."""
    new = rotate_key(current_storage(), key, overlap)
    click.echo(new)
    click.echo(f"the old key works until {current_storage().get_key(key)['expires_at']}; put the new one in the "
               "script tag before then", err=True)


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
    row = storage.get_key(key_or_name)
    if row is None:
        found = find_active(storage, key_or_name)
        if found is None:
            raise click.ClickException(f"no such key: {key_or_name}")
        row = storage.get_key(found)
    return site_of(row)


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
    rows = [(s["id"], s["prefix"] + "…", s["key"], s["name"], s["created_at"], s["revoked_at"] or "",
             s["expires_at"] or "") for s in storage.list_server_keys(site_key(storage, key) if key else None)]
    click.echo(tabulate(rows, headers=["id", "secret", "key", "name", "created", "revoked", "valid until"]))


@secret.command("rotate")
@click.argument("secret_id", type=int)
@overlap_option
def secret_rotate(secret_id, overlap):
    """Make a new secret for the site of secret SECRET_ID (from list) and print it once, alone on stdout; the
    old one keeps working for the overlap, then is refused with 403."""
    click.echo(server_keys.rotate_server_key(current_storage(), secret_id, overlap))
    click.echo("keep it on your servers: it is not shown again; replace the old one before the overlap ends",
               err=True)


@secret.command("revoke")
@click.argument("secret_id", type=int)
def secret_revoke(secret_id):
    """Revoke a secret by its id (from list): refused with 401 from now on, within the key cache time."""
    if not current_storage().revoke_server_key(secret_id, now_iso()):
        raise click.ClickException("no such active secret")
    click.echo("revoked", err=True)
