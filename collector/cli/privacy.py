"""`collector forget` and `collector prune`: erasing a person, and retention."""

from __future__ import annotations

import json

import click

from ..clock import now_iso
from ..web.context import current_storage
from ..web.logs import log
from ..worker import retention


@click.command()
@click.option("--user-id", help="The user id to erase.")
@click.option("--anonymous-id", help="The anonymous id to erase.")
@click.option("--suppress", is_flag=True, help="Also refuse this person's later events (only a hash is kept).")
def forget(user_id, anonymous_id, suppress):
    """Erase a person: events, lines, outbox rows and rejected bodies that name them, and the ids linked to
    theirs (an anonymous id seen with their user id, and the other way round)."""
    if not user_id and not anonymous_id:
        raise click.UsageError("give --user-id or --anonymous-id")
    counts = current_storage().forget(user_id, anonymous_id, suppress, now_iso())
    # Logged without the ids: the log must not keep what was just erased.
    summary = ", ".join(f"{n} {name}" for name, n in counts.items())
    log.info("forget: erased %s%s", summary, "; later events suppressed" if suppress else "")
    click.echo(json.dumps(dict(counts, suppressed=suppress)))


@click.command()
@click.option("--older-than", "days", type=click.IntRange(min=1), required=True,
              help="Delete what was received more than this many days ago.")
@click.option("--rejected-older-than", "rejected_days", type=click.IntRange(min=1),
              help="Delete rejected rows received more than this many days ago (default: --older-than).")
def prune(days, rejected_days):
    """Retention: delete events, their lines and rejected rows older than DAYS, and finished outbox rows,
    a few thousand rows a transaction."""
    click.echo(json.dumps(retention.apply(current_storage(), days, rejected_days)))
