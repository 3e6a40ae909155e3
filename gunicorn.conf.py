"""gunicorn settings for a checkout (gunicorn reads this file from the working directory): the package's own."""

from collector.gunicorn_config import *  # noqa: F403
