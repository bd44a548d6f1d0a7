"""Partition key: rows land in the partition their key hashes to, and a search whose WHERE
fixes the key covers only those partitions."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from sqlvec import parser, planner
from sqlvec.engine.engine import Engine
from sqlvec.engine.topk import search_request
from sqlvec.engine.vector_index import SearchSettings
from sqlvec.planner.plans import VectorRangePlan, VectorTopKPlan

TENANTS = ["acme", "globex", "initech", "umbrella", "hooli"]


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = Engine(tmp_path)
    create = planner.plan(
        parser.parse_one(
            "CREATE COLLECTION docs (id BIGINT PRIMARY KEY, tenant TEXT, e VECTOR(4)) "
            "WITH (partition_key = 'tenant', num_partitions = 8, segment_rows = 50)"
        ),
        engine,
        [],
        {},
    )
    engine.create_collection(create.node.spec)
    vectors = np.random.default_rng(3).standard_normal((400, 4)).astype(np.float32)
    engine.insert(
        "docs", ["id", "tenant", "e"], [[i, TENANTS[i % 5], vectors[i]] for i in range(400)]
    )
    yield engine
    engine.close()


def expected_partition(tenant: str) -> str:
    return f"_default_{zlib.crc32(tenant.encode()) % 8}"


def test_rows_are_placed_by_the_stable_hash_of_their_key(engine: Engine) -> None:
    collection = engine.collection("docs")
    codes = collection.rows.partition_codes()
    by_code = collection.partition_by_code()
    tenants = collection.rows.take(np.arange(400), "tenant")
    for code, tenant in zip(codes.tolist(), tenants, strict=True):
        assert by_code[code].name == expected_partition(tenant)


@pytest.mark.parametrize("kind", ["topk", "range"])
def test_a_fixed_key_searches_only_its_partitions(engine: Engine, kind: str) -> None:
    where = "tenant = $2" if kind == "topk" else "tenant = $2 AND e <-> $1 < 10"
    sql = f"SELECT id FROM docs WHERE {where} ORDER BY e <-> $1 LIMIT 20"
    node = planner.plan(parser.parse_one(sql), engine, [], {}).node
    search = node.search if isinstance(node, VectorRangePlan) else node
    assert isinstance(search, VectorTopKPlan)
    params = ("[0,0,0,1]", "initech")
    request, _, _ = search_request(engine, search, params, SearchSettings())
    assert request.partitions == [expected_partition("initech")]
    collection = engine.collection("docs")
    result = engine.search("docs", request)
    code = collection.partition(expected_partition("initech")).code
    assert len(result.positions) == 20
    assert set(collection.rows.partition_codes()[result.positions].tolist()) == {code}
    assert set(collection.rows.take(result.positions, "tenant")) == {"initech"}
