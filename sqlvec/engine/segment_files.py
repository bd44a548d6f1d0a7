"""Files beside the database: each sealed segment's row ids and its index per vector column.

Every file is written to a temporary name, fsynced, renamed into place and its directory
fsynced, so a crash leaves either the old file or the new one. The manifest in DuckDB records a
CRC32 of each index file: a torn or missing file is detected on load and rebuilt.
"""

from __future__ import annotations

import io
import mmap
import os
import shutil
import zlib
from pathlib import Path

import numpy as np

INDEX_DIR = "indexes"


class SegmentFiles:
    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir / INDEX_DIR
        self.root.mkdir(parents=True, exist_ok=True)

    def write_ids(self, collection: str, segment: int, ids: np.ndarray) -> str:
        buffer = io.BytesIO()
        np.save(buffer, np.asarray(ids, dtype=np.int64))
        name = f"{segment}.ids.npy"
        self._write(collection, name, buffer.getvalue())
        return name

    def read_ids(self, collection: str, name: str) -> np.ndarray | None:
        path = self._dir(collection) / name
        try:
            return np.load(path)
        except (OSError, ValueError):
            return None

    def write_index(
        self, collection: str, segment: int, column: str, data: bytes
    ) -> tuple[str, int, int]:
        """Write an index file; returns (file name, CRC32, size in bytes)."""
        name = f"{segment}.{column.encode().hex()}.faiss"
        self._write(collection, name, data)
        return name, zlib.crc32(data), len(data)

    def read_index(self, collection: str, name: str, checksum: int) -> memoryview | None:
        """The file's bytes (memory-mapped: an index file can be GBs, read once, not copied),
        or None when it is missing or does not match its checksum."""
        try:
            with open(self._dir(collection) / name, "rb") as handle:
                if os.fstat(handle.fileno()).st_size == 0:
                    return None
                data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError):
            return None
        view = memoryview(data)
        return view if zlib.crc32(view) == checksum else None

    def size(self, collection: str, name: str) -> int:
        try:
            return (self._dir(collection) / name).stat().st_size
        except OSError:
            return 0

    def remove(self, collection: str, name: str) -> None:
        (self._dir(collection) / name).unlink(missing_ok=True)

    def remove_collection(self, collection: str) -> None:
        shutil.rmtree(self._dir(collection), ignore_errors=True)

    def _dir(self, collection: str) -> Path:
        # Hex keeps any collection name a safe directory name.
        return self.root / collection.encode().hex()

    def _write(self, collection: str, name: str, data: bytes) -> None:
        directory = self._dir(collection)
        directory.mkdir(parents=True, exist_ok=True)
        temporary = directory / f".{name}.tmp"
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, directory / name)
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
