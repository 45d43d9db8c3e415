"""Request ids: a forked worker process never repeats its parent's sequence."""

from __future__ import annotations

import os

from shared import middleware


def test_a_forked_process_draws_other_request_ids_than_its_parent():
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next id, then exit without running pytest's teardown
        try:
            os.write(write, f"{middleware._rand(128):032x}".encode())
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    with os.fdopen(read, "rb") as f:
        child = f.read().decode()
    parent = f"{middleware._rand(128):032x}"
    # Without the reseed after fork both would draw the same next value.
    assert len(child) == 32 and child != parent
