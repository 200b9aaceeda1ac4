"""Against the real server process (`kundenportal serve`, uvicorn): the event loop stays
free while the worst documents are refused, a silent database gives 503 within bounded
time and loses nothing, and uvicorn's limits refuse oversized or dawdling requests."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

import clock
import db
from models import MeterReading
from schema.ids import encode_id
from settings import Settings
from tests.conftest import free_port, is_postgres, server_process
from tests.factories import logged_in, make_household
from tests.test_api_hardening import fanout

SPEC = {"Accept": "application/graphql-response+json"}

WORST_DOCUMENTS = {
    "fragments spreading the next twice, 22 levels": fanout(21),
    "the same, 40 levels": fanout(40),
    "one field 1,900 times": "{ " + " ".join(["apiVersion"] * 1900) + " }",
    "one field with a selection 300 times": "{ " + " ".join(["me { email }"] * 300) + " }",
    "190 fragments side by side": "query { "
    + " ".join(f"...F{i}" for i in range(190))
    + " } "
    + " ".join(f"fragment F{i} on Query {{ apiVersion }}" for i in range(190)),
    "a body just under MAX_BODY_BYTES of one string": "{ apiVersion } # " + "x" * 99_000,
}


@pytest.fixture(scope="module")
def server(database_url, tmp_path_factory):
    folder = tmp_path_factory.mktemp("hardening")
    bounds = {
        "HTTP_HEAD_TIMEOUT_SECONDS": "1",
        "HTTP_BODY_TIMEOUT_SECONDS": "1",
        "HTTP_LIMIT_CONCURRENCY": "4",
    }
    with server_process(database_url, folder / "mail", **bounds) as running:
        yield running


def test_worst_documents_are_answered_fast_and_the_loop_stays_free(server):
    with httpx.Client(base_url=server.url, timeout=30) as client:
        client.post("/graphql", json={"query": "{ apiVersion }"})  # warm up
        for name, document in WORST_DOCUMENTS.items():
            # when the worst document is sent, and a cheap request right behind it
            cheap: list[float] = []

            def ask_cheap() -> None:
                time.sleep(0.005)
                started = time.perf_counter()
                answer = httpx.post(server.url + "/graphql", json={"query": "{ apiVersion }"})
                cheap.append(time.perf_counter() - started)
                assert answer.json() == {"data": {"apiVersion": "1"}}

            other = threading.Thread(target=ask_cheap)
            started = time.perf_counter()
            other.start()
            response = client.post("/graphql", json={"query": document}, headers=SPEC)
            took = time.perf_counter() - started
            other.join()

            # then it is refused (or answered) quickly, and the cheap request did not wait
            assert response.status_code < 500, (name, response.text[:300])
            assert took < 0.5, (name, took)
            assert cheap[0] < 0.5, (name, cheap[0])


def test_an_oversized_request_head_is_refused_and_the_server_goes_on(server):
    # when a client sends 100 KB of headers (the limit is 32 KB)
    try:
        response = httpx.get(server.url + "/healthz", headers={"X-Filler": "x" * 100_000})
    except httpx.TransportError:
        response = None  # closed while it was still sending: also fine
    # then it gets a 400 with a GraphQL error, the request id and the security headers
    if response is not None:
        assert response.status_code == 400
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
        assert (
            response.headers["x-request-id"]
            == response.json()["errors"][0]["extensions"]["errorId"]
        )
        assert response.headers["x-content-type-options"] == "nosniff"
    # and everyone else is served
    assert httpx.get(server.url + "/healthz").status_code == 200


def _closed_within(sock: socket.socket, seconds: float) -> float:
    started = time.monotonic()
    sock.settimeout(seconds)
    data = sock.recv(65536)
    while data and not data.endswith(b"}"):
        data += sock.recv(65536)
    return time.monotonic() - started


def test_a_connection_that_never_finishes_its_head_is_closed(server):
    # given the head timeout of the test server: 1 s
    with socket.create_connection(("127.0.0.1", server.port)) as silent:
        assert _closed_within(silent, 10) < 5
    with socket.create_connection(("127.0.0.1", server.port)) as dribbling:
        dribbling.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n")
        assert dribbling.recv(1024) == b""  # closed, nothing answered


def test_a_body_that_never_arrives_completely_is_answered_408(server):
    with socket.create_connection(("127.0.0.1", server.port)) as client:
        client.sendall(
            b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"query":'
        )
        client.settimeout(10)
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.endswith(b"}"):
            chunk = client.recv(65536)
            if not chunk:
                break
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408")
    assert b"x-request-id:" in head.lower()
    assert b'"code":"REQUEST_TIMEOUT"' in body


def test_over_the_concurrency_limit_the_answer_is_503_busy_with_the_usual_headers(server):
    # given as many open connections as the test server serves at once (4)
    idle = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(3)]
    try:
        # when one more asks
        response = httpx.get(server.url + "/healthz")
    finally:
        for connection in idle:
            connection.close()

    # then it is told to come back, as a GraphQL error with the request id and headers
    assert response.status_code == 503
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BUSY"
    assert error["extensions"]["errorId"] == response.headers["x-request-id"]
    assert response.headers["retry-after"] == "1"
    assert response.headers["x-frame-options"] == "DENY"


# ------------------------------------------------------------- silent database


class SilentProxy:
    """TCP on loopback to the database, in a thread of its own; `silence()` keeps every
    connection open but forwards nothing more (a partition, a stuck failover), new
    connections included; `speak()` lets the bytes flow again."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self.flowing = asyncio.Event()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> SilentProxy:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(5)
        self.speak()
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)

    def silence(self) -> None:
        self.loop.call_soon_threadsafe(self.flowing.clear)

    def speak(self) -> None:
        self.loop.call_soon_threadsafe(self.flowing.set)

    async def _start(self) -> None:
        await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await self.flowing.wait()
        up_reader, up_writer = await asyncio.open_connection(*self.target)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while data := await src.read(65536):
                    await self.flowing.wait()
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


SUBMIT = """
mutation Submit($input: SubmitReadingInput!) {
  submitReading(input: $input) { reading { id value } errors { code } }
}
"""


@pytest.fixture
def household(database_url) -> Iterator[tuple[str, str]]:
    """A customer with an open reading period and a session: (meter id, token)."""

    async def make() -> tuple[str, str]:
        async with db.database(database_url):
            house = await make_household(clock.utility_today("Europe/Berlin"), "700001")
            _, token = await logged_in(Settings(), house.customer)
            return encode_id("Meter", house.main.id), token

    async def clean() -> None:
        from tests.conftest import empty_all_tables

        async with db.database(database_url):
            await empty_all_tables(database_url)

    yield asyncio.run(make())
    asyncio.run(clean())


def test_a_silent_database_gives_503_fast_and_loses_nothing(database_url, tmp_path, household):
    if not is_postgres(database_url):
        pytest.skip("an embedded SQLite database cannot go silent over the network")
    meter_id, token = household
    parts = urlsplit(database_url)
    with SilentProxy(parts.hostname or "127.0.0.1", parts.port or 5432) as proxy:
        netloc = f"{parts.username}@127.0.0.1:{proxy.port}"
        proxied = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
        timeouts = {
            "DB_CONNECT_TIMEOUT_SECONDS": "2",
            "DB_ACQUIRE_TIMEOUT_SECONDS": "2",
            "DB_STATEMENT_TIMEOUT_SECONDS": "2",
            "READINESS_TIMEOUT_SECONDS": "1",
        }
        with (
            server_process(proxied, tmp_path / "mail", **timeouts) as server,
            httpx.Client(base_url=server.url, timeout=60) as client,
        ):
            bearer = {"Authorization": f"Bearer {token}", **SPEC}
            reading = {"input": {"meterId": meter_id, "value": "1100", "idempotencyKey": "k-7"}}
            me = {"query": "{ me { email } }"}
            assert client.post("/graphql", json=me, headers=bearer).status_code == 200

            # when the database goes silent
            proxy.silence()

            # then readiness and GraphQL answer 503 within their timeouts, every time
            for _ in range(3):
                started = time.perf_counter()
                assert client.get("/readyz").status_code == 503
                assert time.perf_counter() - started < 2.5, time.perf_counter() - started
            started = time.perf_counter()
            answer = client.post("/graphql", json=me, headers=bearer)
            assert answer.status_code == 503, answer.text
            assert answer.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
            assert time.perf_counter() - started < 6, time.perf_counter() - started
            submitted = client.post(
                "/graphql", json={"query": SUBMIT, "variables": reading}, headers=bearer
            )
            assert submitted.status_code == 503

            # and when it speaks again, the retried reading is stored once
            proxy.speak()
            deadline = time.monotonic() + 20
            while client.get("/readyz").status_code != 200:
                assert time.monotonic() < deadline, "did not recover"
                time.sleep(0.2)
            for _ in range(2):
                again = client.post(
                    "/graphql", json={"query": SUBMIT, "variables": reading}, headers=bearer
                )
                assert again.json()["data"]["submitReading"]["errors"] == [], again.text

    async def stored() -> int:
        async with db.database(database_url):
            return await MeterReading.filter(idempotency_key="k-7").count()

    assert asyncio.run(stored()) == 1
