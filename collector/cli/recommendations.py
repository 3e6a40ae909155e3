"""`collector recommendations`: the engine's tables brought up to date by hand, and its offline quality."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app

from ..config import list_lengths
from ..config import named_lengths
from ..recommendations import evaluate
from ..recommendations.sites import HOLDOUT_MAX
from ..recommendations.sites import SiteSettings
from ..recommendations.sites import set_site_settings
from ..recommendations.sites import site_settings
from ..recommendations.upkeep import keep_up
from ..web.context import current_storage
from .common import CollectorGroup
from .common import format_option
from .common import print_rows
from .keys import site_key


@click.group(cls=CollectorGroup)
def recommendations():
    """The recommendation engine: its tables and its offline quality."""


@recommendations.command("update")
def update():
    """Bring the recommendation tables up to date now (the worker does it every few seconds)."""
    click.echo(json.dumps({"read": keep_up(current_storage())}))


@recommendations.command("lengths")
@click.option("--site", required=True, help="The site: its key or the key's name.")
@click.option("--reset", is_flag=True, help="Use the collector's lengths for every list again.")
@click.argument("setting", required=False)
def lengths(site, reset, setting):
    """Show a site's list lengths, or set them: SETTING names lists and their lengths, such as
    `related=6,recent=12` (0 to 20; lists not named keep COLLECTOR_RECOMMENDATION_LENGTHS)."""
    storage = current_storage()
    key = site_key(storage, site)
    own = site_settings(storage.shared_read, key)
    if reset or setting:
        try:
            named = {} if reset else {**own.lengths, **named_lengths(setting)}
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="SETTING") from None
        own = SiteSettings(named, own.holdout)
        set_site_settings(storage, key, own)
    collector = list_lengths(current_app.config["RECOMMENDATION_LENGTHS"])
    click.echo(json.dumps({name: {"length": own.lengths.get(name, length), "set_for_site": name in own.lengths}
                           for name, length in collector.items()}))


@recommendations.command("holdout")
@click.option("--site", required=True, help="The site: its key or the key's name.")
@click.argument("share", required=False, type=click.FloatRange(0, HOLDOUT_MAX))
def holdout(site, share):
    """Show a site's holdout, or set it: SHARE (0 to 0.5) of its visitors, chosen by a hash of each
    visitor, get plain best sellers instead of personalized lists, so that `collector report holdout`
    measures what personalization earns (0, the default: everyone gets them)."""
    storage = current_storage()
    key = site_key(storage, site)
    own = site_settings(storage.shared_read, key)
    if share is not None:
        own = SiteSettings(own.lengths, share)
        set_site_settings(storage, key, own)
    click.echo(json.dumps({"holdout": own.holdout}))


@recommendations.command("evaluate")
@click.option("--site", help="Evaluate a site's own orders: its key or the key's name.")
@click.option("--mode", type=click.Choice(["live", "test"]), default="live", show_default=True)
@click.option("--orders", "orders_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Evaluate a CSV of order lines instead (see --order-column and the others).")
@click.option("--order-column", default="order_id", show_default=True)
@click.option("--product-column", default="product_id", show_default=True)
@click.option("--time-column", default="time", show_default=True)
@click.option("--time-format", help="strptime format of the time column (default: ISO-8601).")
@click.option("--category-column", help="The column holding the product's category, if any.")
@click.option("--planted", is_flag=True, help="Evaluate a generated shop whose bought-together pairs are known.")
@click.option("--skew", type=click.FloatRange(0, 3), default=1.0, show_default=True,
              help="With --planted: how much more popular the popular bundles are (0 none, 1 Zipf's law).")
@click.option("--split", type=click.FloatRange(0.1, 0.95), default=0.8, show_default=True,
              help="The share of orders, oldest first, the tables are built from.")
@click.option("-k", "k", type=click.IntRange(1, 20), default=10, show_default=True)
@format_option()
def evaluate_command(site, mode, orders_file, order_column, product_column, time_column, time_format,
                     category_column, planted, skew, split, k, fmt):
    """Hit rate and NDCG at k of the product page's bought-together list on later orders, beside the site's
    best sellers and the category's best sellers (docs/recommendations.md, "How good it is")."""
    if sum(map(bool, (site, orders_file, planted))) != 1:
        raise click.UsageError("give one of --site, --orders or --planted")
    if planted:
        history = evaluate.planted_shop(skew)
    elif orders_file:
        history = evaluate.from_csv(orders_file, order_column, product_column, time_column, category_column,
                                      time_format)
    else:
        storage = current_storage()
        history = evaluate.from_store(storage, site_key(storage, site), mode)
    rows = evaluate.evaluate(history, split, k)
    columns = list(rows[0])
    print_rows(columns, [tuple(row[c] for c in columns) for row in rows], fmt)
