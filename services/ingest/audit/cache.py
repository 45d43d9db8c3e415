"""The audits already computed, kept while the client's data has not changed.

An audit reads years of a client's rows (~150 ms of CPU on the demo), and the same audit
is asked for again and again: the audit page, its exports, the plan builder, a dashboard
reloaded by a team. An entry is keyed on everything the report depends on:

* the client, the resolved periods (the default period moves with the date, so the key
  does too), the comparison and the minimum sample;
* the client's revision (:class:`~services.ingest.store.models.ClientRevision`), raised
  in the same transaction as every load of its numbers (imports, syncs, pushes);
* every column of the client's accounts (an edit, an archive, a new space changes it).

The revision is read before the data, so an entry is never older than its key says.
Entries are the report's JSON bytes, served as they are; the least recently used go
first once ``max_bytes`` is reached. Each process keeps its own; the key, read from the
database on every request, keeps them all right.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Hashable, Sequence

from services.ingest.store.models import Account


def accounts_fingerprint(accounts: Sequence[Account]) -> str:
    rows = [a.model_dump(mode="json") for a in accounts]
    return hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()


class AuditCache:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> bytes | None:
        with self._lock:
            body = self._entries.get(key)
            if body is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return body

    def put(self, key: Hashable, body: bytes) -> None:
        if len(body) > self.max_bytes:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._size -= len(old)
            self._entries[key] = body
            self._size += len(body)
            while self._size > self.max_bytes:
                _, dropped = self._entries.popitem(last=False)
                self._size -= len(dropped)

    def __len__(self) -> int:
        return len(self._entries)
