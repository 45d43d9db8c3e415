"""A started service hides its startup heap from the cycle collector (shared.app.settle_heap)."""

from __future__ import annotations

import gc

from shared.app import GC_GEN0_THRESHOLD
from tests.conftest import build_app, running


async def test_a_started_service_freezes_its_startup_heap(migrated, var_dir, engine):
    before = gc.get_threshold()
    gc.unfreeze()
    try:
        app = build_app("planner", migrated, var_dir, engine=engine, gc_freeze=True)
        async with running(app):
            assert gc.get_freeze_count() > 10_000  # the modules, models and schemas
            assert gc.get_threshold()[0] == GC_GEN0_THRESHOLD
            assert gc.get_threshold()[1:] == before[1:]
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


async def test_the_setting_turns_it_off(migrated, var_dir, engine):
    before = gc.get_threshold()
    gc.unfreeze()
    app = build_app("planner", migrated, var_dir, engine=engine)  # tests: gc_freeze=False
    async with running(app):
        assert gc.get_freeze_count() == 0
        assert gc.get_threshold() == before
