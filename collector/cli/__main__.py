"""`python -m collector.cli`: the same as the `collector` command."""

from . import main

main()
