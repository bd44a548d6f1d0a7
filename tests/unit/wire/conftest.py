from __future__ import annotations

from collections.abc import Iterator

import pytest
from wire_fakes import FakeServer, RawClient


@pytest.fixture
def server() -> Iterator[FakeServer]:
    fake_server = FakeServer()
    yield fake_server
    fake_server.close()


@pytest.fixture
def client(server: FakeServer) -> Iterator[RawClient]:
    raw_client = RawClient(server.port)
    yield raw_client
    raw_client.close()
