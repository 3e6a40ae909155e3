"""gunicorn settings: `gunicorn -c python:collector.gunicorn_config` (in a checkout, `-c gunicorn.conf.py`).

Server settings only; the collector's own settings are COLLECTOR_* environment variables.
"""

import multiprocessing
import os

wsgi_app = "collector.wsgi:app"
bind = os.environ.get("COLLECTOR_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
# The collector logs one line per request itself; gunicorn's access log would print ?key= values.
accesslog = None
errorlog = "-"
# Threads in each worker, so that the writes of concurrent requests share one commit and one disk
# sync (group commit, collector/storage/group.py); a sync worker would commit every request alone.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", 8))
# A write waits at most the SQLite busy timeout; keep-alive lets a proxy or a batching client reuse
# its connections.
timeout = 30
keepalive = 5
graceful_timeout = 30
# The control socket (gunicorn 24+) lives at one fixed path per user; several collectors on one
# machine would fight over it, and nothing here uses it.
control_socket_disable = True



def on_starting(server):
    """Clear the metric files of processes gone since the last start (PROMETHEUS_MULTIPROC_DIR)."""
    from . import metrics

    metrics.clean()
