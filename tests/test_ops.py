"""What operators and browsers see on every response: ids, headers, metrics, logs, TLS."""

from __future__ import annotations

import gc
import json
import logging
import socket
import ssl
import subprocess

import httpx
import pytest

from app import create_app
from ops.logs import JsonFormatter, request_id
from ops.tls import tls12_context


async def test_every_response_carries_a_request_id(client):
    first = await client.get("/healthz")
    second = await client.get("/healthz")
    assert len(first.headers["x-request-id"]) >= 16
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_a_sane_request_id_from_the_caller_is_kept(client):
    answer = await client.get("/healthz", headers={"X-Request-ID": "trace-0123456789"})
    assert answer.headers["x-request-id"] == "trace-0123456789"
    forged = await client.get("/healthz", headers={"X-Request-ID": "bad id\nwith newline"})
    assert forged.headers["x-request-id"] != "bad id\nwith newline"


async def test_security_headers_are_sent(client):
    headers = (await client.post("/graphql", json={"query": "{ apiVersion }"})).headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    assert "max-age=" in headers["strict-transport-security"]
    assert "default-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]


async def test_cors_only_for_configured_front_end_origins(settings):
    settings.cors_origins = ["https://portal.wasser.example"]
    application = create_app(settings)
    transport = httpx.ASGITransport(app=application)
    async with (
        application.router.lifespan_context(application),
        httpx.AsyncClient(transport=transport, base_url="https://testserver") as c,
    ):
        preflight = {"Access-Control-Request-Method": "POST"}
        allowed = await c.options(
            "/graphql", headers={"Origin": "https://portal.wasser.example", **preflight}
        )
        refused = await c.options(
            "/graphql", headers={"Origin": "https://evil.example", **preflight}
        )
    assert allowed.headers["access-control-allow-origin"] == "https://portal.wasser.example"
    assert allowed.headers["access-control-allow-credentials"] == "true"
    assert "access-control-allow-origin" not in refused.headers


async def test_a_running_app_keeps_its_startup_objects_out_of_garbage_collections(settings):
    settings.gc_freeze_after_start = True
    application = create_app(settings)
    transport = httpx.ASGITransport(app=application)

    def collected_by_gc(thing: object) -> bool:
        return any(o is thing for o in gc.get_objects())

    assert collected_by_gc(application.state.settings)
    async with (
        application.router.lifespan_context(application),
        httpx.AsyncClient(transport=transport, base_url="https://testserver") as c,
    ):
        assert gc.get_freeze_count() > 0
        assert not collected_by_gc(application.state.settings)
        assert (await c.post("/graphql", json={"query": "{ apiVersion }"})).status_code == 200
    assert gc.get_freeze_count() == 0
    assert collected_by_gc(application.state.settings)


async def test_metrics_expose_requests_and_mail_queue(client):
    await client.post("/graphql", json={"query": "{ apiVersion }"})
    text = (await client.get("/metrics")).text
    assert 'kp_http_requests_total{route="/graphql",status="2xx"}' in text
    assert 'kp_mail_queue{state="queued"}' in text
    assert "kp_database_up 1.0" in text


async def test_metrics_count_operations_by_root_field_and_outcome(client):
    await client.post("/graphql", json={"query": "query Anything { apiVersion }"})
    await client.post("/graphql", json={"query": "{ noSuchField }"})
    text = (await client.get("/metrics")).text
    assert 'kp_graphql_operations_total{operation="query.apiVersion",outcome="ok"}' in text
    assert 'kp_graphql_operations_total{operation="-",outcome="rejected"}' in text
    assert "Anything" not in text


def test_json_log_line_carries_request_id_and_no_secret():
    record = logging.LogRecord(
        "kundenportal",
        logging.INFO,
        __file__,
        1,
        "login with Authorization: Bearer abcDEF123_-xyz and password=Geheim!123",
        None,
        None,
    )
    token = request_id.set("req-1234567890")
    try:
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id.reset(token)
    assert line["request_id"] == "req-1234567890"
    assert "abcDEF123" not in line["message"]
    assert "Geheim" not in line["message"]


@pytest.fixture(scope="module")
def rsa_4096_certificate(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:4096",
            "-sha256",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def test_serve_speaks_tls_12_or_newer_only(real_server, rsa_4096_certificate):
    """R18: HTTPS with an RSA 4096 / SHA-256 certificate, no TLS 1.0 or 1.1."""
    cert, key = rsa_4096_certificate
    verify = ssl.create_default_context(cafile=str(cert))
    tls_args = ("--certfile", str(cert), "--keyfile", str(key))
    with real_server(*tls_args, verify=verify, MAIL_WORKER_IN_APP="false") as server:
        answer = httpx.get(f"{server.url}/healthz", verify=verify)
        assert answer.json() == {"status": "ok"}
        port = int(server.url.rsplit(":", 1)[1])
        with (
            socket.create_connection(("127.0.0.1", port)) as raw,
            verify.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
        ):
            assert tls.version() in ("TLSv1.2", "TLSv1.3")
            assert tls.getpeercert()["subject"] == ((("commonName", "127.0.0.1"),),)


def test_tls_context_refuses_protocols_older_than_12(rsa_4096_certificate):
    cert, key = rsa_4096_certificate

    def default_factory():
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
        context.load_cert_chain(str(cert), str(key))
        return context

    assert tls12_context(None, default_factory).minimum_version == ssl.TLSVersion.TLSv1_2
