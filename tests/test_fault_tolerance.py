"""The database going away and coming back, through a TCP proxy we can cut."""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from app import create_app
from tests.conftest import empty_all_tables, free_port, gql, is_postgres
from tests.factories import PASSWORD, register_and_login


class CuttableProxy:
    """Forwards loopback TCP to the database; `cut()` drops all connections, refuses new ones."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.server: asyncio.base_events.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        if self.server is not None:
            return
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def cut(self) -> None:
        if self.server:
            self.server.close()
            await self.server.wait_closed()
            self.server = None
        for writer in list(self.writers):
            writer.close()
        self.writers.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self.writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


@pytest.fixture
def proxied(database_url):
    if not is_postgres(database_url):
        pytest.skip("an embedded SQLite database cannot go away over the network")
    parts = urlsplit(database_url)
    proxy = CuttableProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    netloc = f"{parts.username}@127.0.0.1:{proxy.port}"
    return proxy, urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


ME = "{ me { email } }"
LOGIN = "mutation($e: String!, $p: String!) { login(input: { email: $e, password: $p }) { token } }"
SPEC = {"Accept": "application/graphql-response+json"}


async def test_database_away_answers_503_and_a_clear_error_and_recovers(proxied, settings, mailbox):
    proxy, url = proxied
    await proxy.start()
    settings.database_url = url
    application = create_app(settings)
    transport = httpx.ASGITransport(app=application)
    async with (
        application.router.lifespan_context(application),
        httpx.AsyncClient(transport=transport, base_url="https://testserver") as client,
    ):
        try:
            # given a user and a working database
            token = await register_and_login(client, mailbox)
            assert (await client.get("/readyz")).status_code == 200

            # when the database goes away
            await proxy.cut()

            # then the service is alive but not ready, and GraphQL clients get a clear error
            assert (await client.get("/readyz")).status_code == 503
            assert (await client.get("/healthz")).status_code == 200
            with_session = await gql(client, ME, token=token, headers=SPEC)
            assert with_session.response.status_code == 503
            assert with_session.errors[0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
            logging_in = await gql(client, LOGIN, {"e": "erika@example.org", "p": PASSWORD})
            assert logging_in.errors[0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
            assert "errorId" not in logging_in.errors[0]["extensions"]

            # and when it comes back, everything works again by itself
            await proxy.start()
            for _ in range(50):
                if (await client.get("/readyz")).status_code == 200:
                    break
                await asyncio.sleep(0.1)
            assert (await client.get("/readyz")).status_code == 200
            again = await gql(client, ME, token=token)
            assert again.data == {"me": {"email": "erika@example.org"}}
        finally:
            await proxy.start()
            await empty_all_tables(url)
            await proxy.cut()
