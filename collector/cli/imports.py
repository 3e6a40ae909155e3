"""`collector import` (a file, run here with a progress bar), `collector jobs` (import jobs) and
`collector worker` (forwarding and import jobs, until SIGTERM)."""

from __future__ import annotations

import json
import os
import signal
import sys
import time

import click
from flask import current_app
from tabulate import tabulate
from tqdm import tqdm

from ..imports.files import FORMATS
from ..imports.jobs import create
from ..imports.jobs import error_lines
from ..imports.jobs import public
from ..imports.kinds import KINDS
from ..imports.runner import JobRunner
from ..storage.leases import new_owner
from ..web.context import current_storage
from ..worker.process import Worker
from .common import CollectorGroup
from .keys import site_key


def _site(storage, key: str | None) -> dict:
    """The key row a command imports for: the key (or name) given, else the only active live key."""
    if key:
        return storage.get_key(site_key(storage, key))
    active = [k for k in storage.list_keys() if not k["revoked_at"] and k["mode"] == "live"]
    if len(active) != 1:
        raise click.UsageError(f"{len(active)} active live keys: say which site with --key KEY (a key or its name).")
    return active[0]


@click.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--kind", required=True, type=click.Choice(list(KINDS)), help="What the file holds.")
@click.option("--key", help="The site: a publishable key or its name (default: the only active live key).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), help="csv or ndjson (default: from the name or content).")
def import_command(path, kind, key, fmt):
    """Import a file (CSV or NDJSON, gzip or not) as a job run here, with a progress bar; print its counts.

    The job is the one an upload makes (`collector jobs status ID` shows it); if this command is stopped,
    `collector worker` finishes it from the last committed chunk. Exit status 0 when the job completed
    (with or without refused rows), 1 when it failed.
    """
    storage, config = current_storage(), current_app.config
    key_row = _site(storage, key)
    owner = new_owner()
    with open(path, "rb") as upload:
        job = create(storage, key_row, kind, upload, os.path.basename(path), os.path.getsize(path),
                                 fmt=fmt, owner=owner, lease_until=time.time() + config["IMPORT_LEASE_SECONDS"])
    click.echo(f"import job {job['id']}: {kind} from {os.path.basename(path)}", err=True)
    with tqdm(unit=" rows", unit_scale=True, disable=None, file=sys.stderr) as bar:
        def progress(found: dict) -> None:
            """Move the bar to the job's position and show its counts."""
            bar.total = found["total_rows"]
            bar.update(found["position"] - bar.n)
            bar.set_postfix(stored=found["stored"], duplicates=found["duplicates"], refused=found["refused"])

        runner = JobRunner(storage, config, owner=owner, on_progress=progress)
        signal.signal(signal.SIGINT, lambda *_: runner.stopping.set())
        try:
            runner.step(job["id"])
        finally:
            runner.close()
    found = storage.get_job(job["id"])
    _print_job(found)
    if found["status"] in ("STARTED", "PROCESSING"):
        click.echo(f"stopped at row {found['position']}; `collector worker` finishes job {found['id']}", err=True)
    elif found["refused"]:
        click.echo(f"refused rows: collector jobs errors {found['id']} > errors.csv", err=True)
    if found["status"] == "FAILED":
        raise SystemExit(1)


def _print_job(job: dict) -> None:
    """A job's status, counts and dates, one per line."""
    shown = public(job)
    counts = shown.pop("counts")
    shown.pop("links")
    rows = [(name, "" if value is None else value) for name, value in {**shown, **counts}.items()]
    click.echo(tabulate(rows, tablefmt="plain"))


@click.group(cls=CollectorGroup)
def jobs():
    """Import jobs: list them, see one, download its refused rows."""


@jobs.command("list")
@click.option("--key", help="Only this site's jobs (a key or its name).")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per job, as the API shows them.")
def jobs_list(key, limit, as_json):
    """The newest jobs first, with their status and counts."""
    storage = current_storage()
    found = storage.list_jobs(site_key(storage, key) if key else None, limit)
    if as_json:
        for job in found:
            click.echo(json.dumps(public(job)))
        return
    click.echo(tabulate([(j["id"], j["kind"], j["status"], j["file_name"], j["total_rows"], j["position"], j["stored"],
                          j["duplicates"], j["refused"], j["created_at"]) for j in found],
                        headers=["id", "kind", "status", "file", "rows", "done", "stored", "duplicates", "refused",
                                 "created"]))


def _job(job_id: int) -> dict:
    """A job by id, or a clean error."""
    job = current_storage().get_job(job_id)
    if job is None:
        raise click.ClickException(f"no import job {job_id}")
    return job


@jobs.command("status")
@click.argument("job_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="The job as the API shows it.")
def jobs_status(job_id, as_json):
    """A job's status, counts, dates and, when it failed, why."""
    job = _job(job_id)
    if as_json:
        click.echo(json.dumps(public(job), indent=1))
    else:
        _print_job(job)


@jobs.command("errors")
@click.argument("job_id", type=int)
def jobs_errors(job_id):
    """The rows a job refused, as CSV on stdout: row number, reason, message, field errors, the row."""
    _job(job_id)
    for text in error_lines(current_storage(), job_id):
        sys.stdout.write(text)


@click.command()
@click.option("--once", is_flag=True, help="Exit when nothing is due instead of waiting for more.")
@click.option("--forward/--no-forward", default=True, show_default=True, help="Drain the forwarding outbox.")
@click.option("--jobs/--no-jobs", "run_jobs", default=True, show_default=True, help="Run import jobs.")
def worker(once, forward, run_jobs):
    """Run this node's background work until SIGTERM: forwarding, import jobs, and the web panels' and the
    recommendations' tables kept up to date (one process per node; several nodes share the work)."""
    if not forward and not run_jobs:
        raise click.UsageError("--no-forward and --no-jobs leave nothing to do")
    Worker(current_storage(), current_app.config, forward=forward, jobs=run_jobs).run(once=once)
