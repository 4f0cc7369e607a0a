"""A `runda worker` whose FU generation runs slowly, so a test can kill it in the middle of a run:
batches of three devices, and a pause after each batch has committed. Only the pace changes; the
run, its batches and its orders are the real ones (see `worker_command`)."""

from __future__ import annotations

import asyncio
import sys

from backend.maintenance import generation

BATCH_DEVICES = 3
PAUSE_SECONDS = 0.5

_batch = generation._batch


async def _slow_batch(*args, **kwargs) -> bool:
    more = await _batch(*args, **kwargs)
    await asyncio.sleep(PAUSE_SECONDS)
    return more


def slow_down() -> None:
    generation.BATCH_DEVICES = BATCH_DEVICES
    generation._batch = _slow_batch


def worker_command(*args: str) -> list[str]:
    """`runda worker ARGS` with generation slowed down (run from the project root)."""
    return [sys.executable, "-c", "import tests.support.slow_generation as s; s.slow_down(); "
            f"from backend.cli import main; main(['worker', *{list(args)!r}])"]
