"""`python -m backend` is the `runda` command."""

from backend.cli import main

main()
