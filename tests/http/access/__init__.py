"""Rows of the route-access table contributed by each area (tests/http/test_route_access.py
merges them): each module here has `ROWS`, {(method, path template): (concrete path, expected
status per role)}, and may have `async def add_paths(world)`, which creates what its concrete
paths point at (in the shared world) and adds their {placeholders} to `world.paths`."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def area_modules() -> list[ModuleType]:
    return [importlib.import_module(f"{__name__}.{info.name}") for info in pkgutil.iter_modules(__path__)]


def rows() -> dict:
    merged: dict = {}
    for module in area_modules():
        overlap = set(merged) & set(module.ROWS)
        assert not overlap, f"{module.__name__} repeats rows: {sorted(overlap)}"
        merged.update(module.ROWS)
    return merged


async def add_paths(world) -> None:
    for module in area_modules():
        if hasattr(module, "add_paths"):
            await module.add_paths(world)
