"""`collector tokens`: analyst tokens."""

from __future__ import annotations

import click
from tabulate import tabulate

from ..access import sites
from ..access.tokens import authenticate_token
from ..access.tokens import create_token
from ..clock import now_iso
from ..web.context import current_storage
from .common import CollectorGroup


@click.group(cls=CollectorGroup)
def tokens():
    """Analyst tokens for the reports API and the dashboard."""


@tokens.command("create")
@click.option("--name", required=True, help="Who or what the token is for.")
@click.option("--site", "sites_", multiple=True,
              help="A site the token may read: a publishable key or its name (repeatable; default: every site).")
def tokens_create(name, sites_):
    """Create a token and print it alone on stdout; only its hash is stored, so keep it now."""
    storage = current_storage()
    keys = sorted({key for site in sites_ for key in sites.site_keys(storage, site)}) if sites_ else None
    click.echo(create_token(storage, name, keys))


@tokens.command("list")
def tokens_list():
    """Show every token's id, name, sites and dates (never the token)."""
    rows = [(t["id"], t["name"], "every site" if t["sites"] is None else ", ".join(t["sites"]), t["created_at"],
             t["revoked_at"] or "") for t in current_storage().list_tokens()]
    click.echo(tabulate(rows, headers=["id", "name", "sites", "created", "revoked"]))


@tokens.command("check")
def tokens_check():
    """Exit 0 when the token read on stdin is active (unknown or revoked: a message and exit 1); read
    from stdin, so no token shows in the list of processes."""
    row = authenticate_token(click.get_text_stream("stdin").read().strip(), current_storage())
    click.echo(f"active: token {row['id']} ({row['name']})", err=True)


@tokens.command("revoke")
@click.argument("token_id", type=int)
def tokens_revoke(token_id):
    """Revoke a token by its id."""
    if not current_storage().revoke_token(token_id, now_iso()):
        raise click.ClickException("no such active token")
