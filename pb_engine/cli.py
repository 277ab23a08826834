"""The one CLI, `pb-engine`: it drives the same functions as the service.

Commands live in `pb_engine/commands/<area>.py`, each exposing a `commands`
list; they are discovered here so that areas do not edit one shared file.
"""

from __future__ import annotations

import importlib
import pkgutil

import click

from pb_engine import __version__


@click.group()
@click.version_option(__version__, prog_name="pb-engine")
def main() -> None:
    """pb_engine: participatory budgeting for many cities."""


def _register() -> None:
    import pb_engine.commands as pkg

    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{pkg.__name__}.{info.name}")
        for cmd in getattr(module, "commands", []):
            main.add_command(cmd)


_register()
