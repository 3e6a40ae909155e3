"""`collector tokens`: analyst tokens."""

from __future__ import annotations

import click
from tabulate import tabulate

from .. import analysts
from ..clock import now_iso
from ..storage import current_storage
from .common import CollectorGroup


@click.group(cls=CollectorGroup)
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
