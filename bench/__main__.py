"""Run the benchmarks: ``python -m bench [name ...]`` (all when no name is given).

Each benchmark is a module ``bench/<name>.py`` with ``async def run() -> list[Figure]`` or
``def run() -> list[Figure]``. Every figure is printed twice: a readable line and a machine
line ``BENCH <name> value=<v> unit=<u> baseline=<b> ratio=<r> target=<op><t>``.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import pkgutil
import sys
import time
from pathlib import Path

from bench.common import Figure, print_figure

# Modules of bench/ that are helpers of the others, not benchmarks.
HELPERS = {"common", "load", "bare"}


def discover() -> list[str]:
    here = Path(__file__).parent
    return sorted(
        m.name
        for m in pkgutil.iter_modules([str(here)])
        if not m.name.startswith("_") and m.name not in HELPERS
    )


def main(argv: list[str]) -> int:
    names = argv or discover()
    unknown = [n for n in names if n not in discover()]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(discover())}")
        return 2
    failed = 0
    for name in names:
        mod = importlib.import_module(f"bench.{name}")
        print(f"== {name}: {(mod.__doc__ or '').strip().splitlines()[0]}", flush=True)
        started = time.perf_counter()
        result = mod.run()
        figures: list[Figure] = asyncio.run(result) if inspect.isawaitable(result) else result
        for fig in figures:
            print_figure(fig)
            failed += 0 if fig.met else 1
        print(f"   ({time.perf_counter() - started:.1f} s)\n", flush=True)
    print(f"{failed} figure(s) missed their target." if failed else "Every target met.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
