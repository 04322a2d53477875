"""For a test's child process that runs one Kivy window (Kivy makes one per process)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


def drive(app, script: Callable[[], Awaitable[dict]], timeout: float = 60.0) -> dict:
    """Run ``app`` with ``script()`` beside it on one loop; the window closes when the
    script ends or fails (a failure is raised here). What the script returned."""
    result: dict = {}

    async def run() -> None:
        async def guarded() -> None:
            try:
                result.update(await asyncio.wait_for(script(), timeout))
            finally:
                app.stop()

        task = asyncio.ensure_future(guarded())
        await app.async_run(async_lib="asyncio")
        await task

    asyncio.run(run())
    return result
