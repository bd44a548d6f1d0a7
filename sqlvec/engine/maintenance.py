"""COMPACT, collection statistics and ANALYZE."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from sqlvec.engine.collection import Collection, Segment
from sqlvec.engine.indexing import SegmentIndexing
from sqlvec.engine.segment_files import SegmentFiles

STATS_SCHEMA = pa.schema(
    [
        ("partition", pa.string()),
        ("segment", pa.int64()),
        ("state", pa.string()),
        ("row_count", pa.int64()),
        ("deleted_count", pa.int64()),
        ("index_type", pa.string()),
        ("bytes_on_disk", pa.int64()),
    ]
)


def compact(collection: Collection, indexing: SegmentIndexing) -> None:
    """Drop deleted rows from memory and rebuild the segments that held some.

    DuckDB already deleted them; the caller holds the collection's write and layout locks.
    """
    affected = {s.id for s in collection.all_segments() if len(s.deleted_ids)}
    rows, moved = collection.rows.compacted()
    collection.rebuild_layout(rows, moved)
    for segment in collection.all_segments():
        if segment.id not in affected:
            continue
        segment.deleted_ids = np.empty(0, np.int64)
        segment.indexes.clear()
        indexing.record(collection, segment)
        for column, definition in collection.indexes.items():
            indexing.schedule(collection, segment, column, definition, background=False)


def stats(collection: Collection, files: SegmentFiles) -> list[tuple[Any, ...]]:
    """One row per segment: partition, segment, state, rows, deleted rows, index, bytes."""
    deleted = collection.rows.deleted_mask()
    rows: list[tuple[Any, ...]] = []
    for partition in sorted(collection.partitions.values(), key=lambda p: p.code):
        for segment in partition.sealed:
            rows.append(_segment_row(collection, segment, files, deleted))
        growing = partition.growing.view()
        removed = int(deleted[growing].sum()) if len(growing) else 0
        rows.append(
            (
                partition.name,
                partition.growing_id,
                "growing",
                len(growing) - removed,
                removed,
                "flat",
                0,
            )
        )
    return rows


def stats_table(rows: list[tuple[Any, ...]]) -> pa.Table:
    columns: list[tuple[Any, ...]] = (
        list(zip(*rows, strict=True)) if rows else [()] * len(STATS_SCHEMA)
    )
    return pa.table(
        [
            pa.array(list(values), type=f.type)
            for values, f in zip(columns, STATS_SCHEMA, strict=True)
        ],
        schema=STATS_SCHEMA,
    )


def _segment_row(
    collection: Collection, segment: Segment, files: SegmentFiles, deleted: np.ndarray
) -> tuple[Any, ...]:
    """Live rows, and deleted rows still held until COMPACT, of one sealed segment."""
    name = collection.spec.name
    kinds = sorted({built.definition.type for built in segment.indexes.values()}) or ["flat"]
    size = files.size(name, segment.ids_file) + sum(
        files.size(name, file) for file in segment.index_files.values()
    )
    return (
        segment.partition,
        segment.id,
        segment.state,
        int((~deleted[segment.positions]).sum()),
        len(segment.deleted_ids),
        ",".join(kinds),
        size,
    )


def analyze(collection: Collection) -> list[tuple[Any, ...]]:
    """Findings on the stored vectors, after Faiss' MatrixStats and its FAQ."""
    rows = collection.rows
    live = ~rows.deleted_mask()
    findings: list[tuple[Any, ...]] = []
    for column in collection.spec.vector_columns:
        vectors = rows.snapshot().vectors[column.name][live[: len(rows)]]
        findings.extend(_vector_findings(column.name, vectors))
    return findings


def _vector_findings(column: str, vectors: np.ndarray) -> list[tuple[Any, ...]]:
    n = len(vectors)
    out: list[tuple[Any, ...]] = [(column, "rows", str(n), "")]
    if n == 0:
        return out
    finite = np.isfinite(vectors).all(axis=1)
    if not finite.all():
        out.append(
            (
                column,
                "non-finite vectors",
                str(int((~finite).sum())),
                "delete them: NaN and infinity break every distance",
            )
        )
        vectors = vectors[finite]
    norms = np.linalg.norm(vectors, axis=1)
    zero = int((norms == 0).sum())
    out.append(
        (column, "zero vectors", str(zero), "cosine distance is undefined for them" if zero else "")
    )
    duplicates = n - len(np.unique(vectors, axis=0))
    out.append(
        (
            column,
            "duplicate vectors",
            str(duplicates),
            "duplicates crowd out other results of a top-k" if duplicates else "",
        )
    )
    std = vectors.std(axis=0)
    constant = int((std == 0).sum())
    out.append(
        (
            column,
            "constant dimensions",
            str(constant),
            "they carry no information; drop them to save space and time" if constant else "",
        )
    )
    normalized = bool(np.allclose(norms[norms > 0], 1.0, atol=1e-3))
    out.append(
        (
            column,
            "normalized",
            "yes" if normalized else "no",
            "inner product and cosine rank alike" if normalized else "",
        )
    )
    mean = vectors.mean(axis=0)
    offset = float(np.linalg.norm(mean) / (np.sqrt((std**2).sum()) + 1e-12))
    advice = (
        "subtract the mean vector (center the data): "
        "quantizers and IVF lose precision far from zero"
        if offset > 1.0
        else ""
    )
    out.append((column, "mean offset / spread", f"{offset:.3f}", advice))
    out.append(
        (column, "value range", f"[{float(vectors.min()):.6g}, {float(vectors.max()):.6g}]", "")
    )
    return out
