"""Values derived from a collection's in-memory rows, kept while the rows stay as they are.

A filtered search with the same WHERE clause and values (`category = 3`, asked again and again
with a new query vector) needs the same matching rows, the same live subset, the same ids and
the same Faiss ID selector each time: building them costs more than the filtered Faiss search
itself on 100k rows. Lucene and Elasticsearch keep such filter bitsets in a query cache; this
is that cache. Any write to the rows (append, delete, update) bumps their version, and the
first lookup at a new version drops everything, so a cached value is never stale.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

import numpy as np

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
# An entry larger than this share of the budget is not kept: it would push out everything else.
_MAX_ENTRY_SHARE = 4


class DerivedCache:
    """A least-recently-used map, bounded by the bytes of its numpy values."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self._max_bytes = max_bytes
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._version = -1
        self._bytes = 0

    def get(self, version: int, key: Hashable) -> Any | None:
        with self._lock:
            if version != self._version:
                self._reset(version)
                return None
            entry = self._entries.get(key)
            if entry is None:
                return None
            self._entries.move_to_end(key)
            return entry[0]

    def put(self, version: int, key: Hashable, value: Any, nbytes: int) -> None:
        """Keep `value` (whose arrays the caller must not change again) for this version."""
        if nbytes * _MAX_ENTRY_SHARE > self._max_bytes:
            return
        with self._lock:
            if version != self._version:
                self._reset(version)
            previous = self._entries.pop(key, None)
            if previous is not None:
                self._bytes -= previous[1]
            self._entries[key] = (value, nbytes)
            self._bytes += nbytes
            while self._bytes > self._max_bytes:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._bytes -= dropped

    def __len__(self) -> int:
        return len(self._entries)

    def _reset(self, version: int) -> None:
        self._entries.clear()
        self._bytes = 0
        self._version = version


def frozen(array: np.ndarray) -> np.ndarray:
    """The array, read-only: a cached value is shared by every search that finds it."""
    array.flags.writeable = False
    return array
