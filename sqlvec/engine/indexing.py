"""Sealed segments on disk and their index builds: persist, build, publish, reload.

A sealed segment is recorded (ids file + manifest row) when it is sealed; its index file and
manifest row are written when the build finishes. A restart reloads both and never rebuilds an
index whose file is intact; a missing or torn file is rebuilt in the background while that
segment is searched exactly.
"""

from __future__ import annotations

import json
import logging

import numpy as np

from sqlvec.engine import cancel
from sqlvec.engine.builder import IndexBuilder
from sqlvec.engine.collection import Collection, Segment
from sqlvec.engine.index_types import IndexDef
from sqlvec.engine.segment_files import SegmentFiles
from sqlvec.engine.store import Store
from sqlvec.engine.vector_index import BuiltIndex, build, deserialize, serialize
from sqlvec.errors import QueryCanceled

log = logging.getLogger("sqlvec.indexing")


class SegmentIndexing:
    def __init__(self, store: Store, files: SegmentFiles, builder: IndexBuilder) -> None:
        self.store = store
        self.files = files
        self.builder = builder

    # sealing and building

    def sealed(self, collection: Collection, segments: list[Segment], background: bool) -> None:
        """Persist newly sealed segments and build their indexes (now, or in the worker)."""
        for segment in segments:
            self.record(collection, segment)
            for column, definition in collection.indexes.items():
                self.schedule(collection, segment, column, definition, background)

    def record(self, collection: Collection, segment: Segment) -> None:
        name = collection.spec.name
        segment.ids_file = self.files.write_ids(name, segment.id, segment.ids)
        self.store.record_segment(
            name, segment.id, segment.partition, len(segment.ids), segment.ids_file
        )

    def schedule(
        self,
        collection: Collection,
        segment: Segment,
        column: str,
        definition: IndexDef,
        background: bool,
    ) -> None:
        if len(segment.ids) < definition.min_training_rows():
            return  # too few rows to train: the segment stays exact
        segment.building.add(column)
        if background:
            self.builder.submit(lambda: self.build(collection, segment, column, definition))
        else:
            self.build(collection, segment, column, definition)

    def build(
        self, collection: Collection, segment: Segment, column: str, definition: IndexDef
    ) -> None:
        try:
            vectors = collection.rows.snapshot().vectors[column][segment.positions]
            try:
                built = build(definition, vectors, segment.ids)
            except RuntimeError as exc:
                # Faiss refused to train (a factory string needing more rows than the segment
                # has): the segment stays exact, which is slower but correct.
                log.warning(
                    "segment %d of %s stays exact: %s", segment.id, collection.spec.name, exc
                )
                return
            if collection.indexes.get(column) != definition or not collection.is_current(segment):
                return  # dropped, replaced or compacted while this build ran
            data = serialize(built)
            name = collection.spec.name
            file, checksum, size = self.files.write_index(name, segment.id, column, data)
            self.store.record_segment_index(
                name, segment.id, column, definition.name, file, checksum, size
            )
            segment.index_files[column] = file
            segment.indexes[column] = built
        finally:
            segment.building.discard(column)

    def forget(self, collection: Collection, segment: Segment) -> None:
        """A dropped segment: its manifest rows and files go."""
        name = collection.spec.name
        self.store.forget_segment(name, segment.id)
        for file in [segment.ids_file, *segment.index_files.values()]:
            if file:
                self.files.remove(name, file)

    # index definitions

    def create_index(self, collection: Collection, definition: IndexDef) -> None:
        """Record the index and build it synchronously for every segment that can train it."""
        column = definition.column
        self.drop_index(collection, column)
        collection.indexes[column] = definition
        self.store.set_index(collection.spec.name, column, json.dumps(_definition_json(definition)))
        try:
            for partition in collection.partitions.values():
                if partition.growing.size >= definition.min_training_rows():
                    self.record(collection, collection.seal(partition))
            for segment in collection.all_segments():
                cancel.check()  # between segments: a Faiss build cannot be interrupted
                self.schedule(collection, segment, column, definition, background=False)
        except QueryCanceled:
            # As in Postgres, a cancelled CREATE INDEX leaves no index behind.
            self.drop_index(collection, column)
            raise

    def drop_index(self, collection: Collection, column: str) -> None:
        collection.indexes.pop(column, None)
        self.store.set_index(collection.spec.name, column, None)
        for segment in collection.all_segments():
            segment.indexes.pop(column, None)
            file = segment.index_files.pop(column, None)
            if file is not None:
                self.files.remove(collection.spec.name, file)

    # restart

    def read_indexes(self, name: str) -> dict[tuple[int, str], tuple[str, BuiltIndex | None]]:
        """Every index file of a collection, read and checked: (segment, column) ->
        (file, index or None when missing or torn). Needs no rows, so a restart runs it
        while DuckDB loads them."""
        definitions = {
            column: IndexDef(**json.loads(text))
            for column, text in self.store.index_definitions(name)
        }
        loaded: dict[tuple[int, str], tuple[str, BuiltIndex | None]] = {}
        for segment, column, _, file, checksum, _ in self.store.segment_indexes(name):
            definition = definitions.get(column)
            data = self.files.read_index(name, file, checksum)
            built = deserialize(definition, data) if data is not None and definition else None
            loaded[(segment, column)] = (file, built)
        return loaded

    def load(
        self, collection: Collection, indexes: dict[tuple[int, str], tuple[str, BuiltIndex | None]]
    ) -> None:
        """Rebuild segments from the manifest; rows in none of them are growing."""
        name = collection.spec.name
        for column, text in self.store.index_definitions(name):
            collection.indexes[column] = IndexDef(**json.loads(text))
        covered = np.zeros(len(collection.rows), dtype=bool)
        for segment_id, partition_name, _, ids_file in self.store.segments(name):
            segment = self._load_segment(collection, segment_id, partition_name, ids_file)
            if segment is not None:
                covered[segment.positions] = True
        for partition in collection.partitions.values():
            # Growing ids were handed out before the manifest told which ids are taken.
            partition.growing_id = collection.new_segment_id()
        self._load_growing(collection, covered)
        for segment in collection.all_segments():
            self._attach_indexes(collection, segment, indexes)

    def _load_segment(
        self, collection: Collection, segment_id: int, partition_name: str, ids_file: str
    ) -> Segment | None:
        collection.reserve_segment_ids(segment_id)
        partition = collection.partitions.get(partition_name)
        ids = self.files.read_ids(collection.spec.name, ids_file)
        if partition is None or ids is None:
            # Its rows fall back to the growing segment and are sealed again.
            self.store.forget_segment(collection.spec.name, segment_id)
            return None
        positions = collection.rows.lookup(ids.tolist())
        live = positions >= 0
        order = np.argsort(positions[live], kind="stable")
        segment = Segment(
            segment_id, partition_name, positions[live][order], ids[live][order], ids_file
        )
        # Rows deleted since the index was written are still in it: searches exclude them.
        segment.deleted_ids = np.sort(ids[~live])
        partition.sealed = [*partition.sealed, segment]
        return segment

    def _load_growing(self, collection: Collection, covered: np.ndarray) -> None:
        codes = collection.rows.partition_codes()
        by_code = collection.partition_by_code()
        uncovered = np.flatnonzero(~covered & ~collection.rows.deleted_mask())
        for code, partition in by_code.items():
            positions = uncovered[codes[uncovered] == code]
            sealed = collection.add_to_growing(partition, positions)
            self.sealed(collection, sealed, background=True)

    def _attach_indexes(
        self,
        collection: Collection,
        segment: Segment,
        indexes: dict[tuple[int, str], tuple[str, BuiltIndex | None]],
    ) -> None:
        for column, definition in collection.indexes.items():
            file, built = indexes.get((segment.id, column), ("", None))
            if built is not None:
                segment.indexes[column] = built
                segment.index_files[column] = file
                continue
            if file:
                log.warning(
                    "index file %s of %s is missing or torn: rebuilding", file, collection.spec.name
                )
            self.schedule(collection, segment, column, definition, background=True)


def _definition_json(definition: IndexDef) -> dict[str, object]:
    return {
        "name": definition.name,
        "column": definition.column,
        "type": definition.type,
        "metric": definition.metric,
        "params": definition.params,
    }
