"""`collector forward` (targets and the forwarder) and `collector outbox` (inspection and repair)."""

from __future__ import annotations

import time
from datetime import UTC
from datetime import datetime

import click
from flask import current_app
from tabulate import tabulate

from ..clock import iso
from ..clock import now_iso
from ..forward import targets
from ..forward.runner import Forwarder
from ..web.context import current_storage
from .common import CollectorGroup


def _dest(option: str) -> str:
    """The parameter name of a credential option: --upstream-key -> credential_upstream_key."""
    return "credential_" + option.lstrip("-").replace("-", "_")


def _names(ctx, param, value: str | None) -> list[str] | None:
    """A comma-separated list option, as a list (None when not given)."""
    if value is None:
        return None
    names = [name.strip() for name in value.split(",") if name.strip()]
    if not names:
        raise click.BadParameter("name at least one")
    return names


def add_command() -> click.Command:
    """`forward add`, with a --KIND URL option and a credential option for every registered kind."""
    kinds = [targets.get(name) for name in targets.names()]
    params = [click.Argument(["key"])]
    params += [click.Option([f"--{kind.name}", f"url_{kind.name}"], metavar="URL", help=kind.url_help)
               for kind in kinds]
    credentials = {kind.credential.option: kind.credential for kind in reversed(kinds)}  # the first kind's help
    params += [click.Option([option, _dest(option)], help=credential.help) for option, credential in
               sorted(credentials.items())]
    params.append(click.Option(["--store/--no-store"], default=None,
                               help="Also keep the key's events in `events` (default: yes)."))
    params.append(click.Option(["--sources"], callback=_names, metavar="LIST",
                               help="Only events of these sources (comma-separated: datacue, cobi, ...)."))
    params.append(click.Option(["--types"], callback=_names, metavar="LIST",
                               help="Only events (or records) of these types (comma-separated: order, pageview, "
                                    "interaction, products, ...)."))

    def forward_add(key, store, sources, types, **values):
        """Add one forward target to KEY and print its id."""
        chosen = [kind for kind in kinds if values[f"url_{kind.name}"]]
        if len(chosen) != 1:
            raise click.UsageError("give exactly one of " + ", ".join(f"--{kind.name}" for kind in kinds))
        kind = chosen[0]
        url = values[f"url_{kind.name}"]
        if not url.startswith(("http://", "https://")):
            raise click.BadParameter(f"not an http(s) URL: {url}")
        credential = values[_dest(kind.credential.option)]
        if not credential and kind.credential.generate:
            credential = kind.credential.generate()
            click.echo(f"{kind.credential.announce}: {credential}", err=True)
        if not credential:
            raise click.UsageError(f"--{kind.name} needs {kind.credential.option}")
        target_id = current_storage().add_target(key, kind.name, url, credential, now_iso(), sources, types)
        if store is not None:
            current_storage().set_store(key, store)
        click.echo(target_id)

    return click.Command("add", callback=forward_add, params=params, help=forward_add.__doc__)


class _ForwardGroup(CollectorGroup):
    """`forward`, whose `add` is built when asked, so that it offers every kind registered by then."""

    def list_commands(self, ctx):
        """The group's commands and `add`."""
        return sorted({*super().list_commands(ctx), "add"})

    def get_command(self, ctx, name):
        """`add` from the registry, the others as declared."""
        return add_command() if name == "add" else super().get_command(ctx, name)


@click.group(cls=_ForwardGroup)
def forward():
    """Forward a key's events to DataCue, Cobi or a signed webhook."""


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
    rows = [(t["id"], t["name"], t["kind"], t["url"], t["secret"][:6] + "…", "yes" if t["store_events"] else "no",
             t["sources"] or "all", t["types"] or "all") for t in current_storage().list_targets()]
    click.echo(tabulate(rows, headers=["id", "key name", "kind", "url", "secret", "stores events", "sources",
                                       "types"]))


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


@click.group(cls=CollectorGroup)
def outbox():
    """Inspect and repair the forwarding outbox."""


@outbox.command("status")
def outbox_status():
    """Counts by target and state, and the age of the oldest pending row."""
    rows = [(r["target_id"], r["kind"], r["url"], r["state"], r["count"],
             "" if r["oldest_seconds"] is None else f"{r['oldest_seconds']:.0f}s")
            for r in current_storage().outbox_status(time.time())]
    click.echo(tabulate(rows, headers=["target", "kind", "url", "state", "rows", "oldest pending"]))
    now = time.time()
    paused = [(t["target_id"], t["kind"], t["url"], iso(datetime.fromtimestamp(t["paused_until"], UTC)),
               f"{t['paused_until'] - now:.0f}s", t["paused_reason"]) for t in current_storage().paused_targets(now)]
    if paused:
        click.echo("\npaused targets (one probe is sent when the pause ends):")
        click.echo(tabulate(paused, headers=["target", "kind", "url", "until", "in", "why"]))


@outbox.command("retry")
@click.option("--target", "target_id", type=int, help="Only this target's dead rows.")
def outbox_retry(target_id):
    """Put dead rows back in the queue."""
    click.echo(f"{current_storage().retry_dead(time.time(), target_id)} rows queued again", err=True)
