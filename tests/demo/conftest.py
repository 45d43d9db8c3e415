"""One generated demo per test session (generating takes a couple of seconds)."""

from __future__ import annotations

import pytest

from services.demo.generate import Demo, generate


@pytest.fixture(scope="session")
def demo() -> Demo:
    return generate()
