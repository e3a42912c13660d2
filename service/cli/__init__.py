"""The ``waymark`` command line: one thin module per command group; ``main`` is the entry point."""

from service.cli.root import main

__all__ = ["main"]
