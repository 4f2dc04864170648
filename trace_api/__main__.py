"""`python -m trace_api` is the `lotline` command."""

from trace_api.cli import main

main()
