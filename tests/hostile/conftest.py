"""Hostile-input tests: what each API answers to generated, damaged and forged input.

The Schemathesis run records how many cases it sent to each service; the numbers are
printed in the terminal summary (and so in CI's log).
"""

from __future__ import annotations

from typing import Any

import pytest

#: service → number of generated requests sent (filled by test_api_fuzz.py).
GENERATED: dict[str, int] = {}


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if not GENERATED:
        return
    terminalreporter.section("Schemathesis: generated cases per service")
    for service, count in sorted(GENERATED.items()):
        terminalreporter.write_line(f"{service}: {count} cases")
