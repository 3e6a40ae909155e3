"""The `collector` command, one module per group of commands.

Settings come from COLLECTOR_* variables; every command runs inside the app's context, and an error of
the store, the settings or a query ends it with a message and exit status 1 (common.CollectorGroup).
"""

from __future__ import annotations

import click

from .. import create_app
from ..web.context import current_storage
from .common import CollectorGroup
from .data import backup
from .data import copy_command
from .data import export
from .data import query
from .data import report
from .forwarding import forward
from .forwarding import outbox
from .imports import import_command
from .imports import jobs
from .imports import worker
from .keys import keys
from .privacy import forget
from .privacy import prune
from .recommendations import recommendations
from .tokens import tokens


@click.group(cls=CollectorGroup,
             help="Storefront event collector. Settings come from COLLECTOR_* environment variables.")
@click.version_option(package_name="storefront-collector", prog_name="collector")
@click.pass_context
def main(ctx):
    """Build the app from the environment and run the command inside its context; only `collector
    migrate` creates a store."""
    app = create_app()
    app.extensions["collector.storage"].creates_store = False
    ctx.with_resource(app.app_context())


@main.command()
def migrate():
    """Apply pending schema migrations."""
    applied = current_storage().migrate()
    click.echo("applied: " + ", ".join(applied) if applied else "schema is up to date", err=True)


for _command in (keys, tokens, forward, outbox, worker, import_command, jobs, query, report, export, copy_command,
                 backup, forget, prune, recommendations):
    main.add_command(_command)
