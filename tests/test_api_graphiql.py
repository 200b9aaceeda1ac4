"""GraphiQL at /graphql in a browser, its files served by the app: no outside URL, no CDN."""

from __future__ import annotations

import io
import re
import tarfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from api import graphiql
from app import create_app

BROWSER = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture
def assets(tmp_path: Path) -> Path:
    """Stand-ins for the fetched files (the real ones come from `kundenportal fetch-graphiql`)."""
    folder = tmp_path / "vendor" / "graphiql"
    folder.mkdir(parents=True)
    for name in graphiql.SERVED:
        (folder / name).write_text(f"/* {name} */")
    return folder


@pytest.fixture
def api(app) -> Callable[..., Any]:
    """The whole app (routes and view) with settings changed as asked, on the test database."""

    @asynccontextmanager
    async def client(**overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        other = create_app(app.state.settings.model_copy(update=overrides))
        other.state.hasher = app.state.hasher
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=other), base_url="https://testserver"
        ) as c:
            yield c

    return client


async def test_a_browser_gets_graphiql_loading_only_from_this_server(api, assets):
    async with api(graphiql=True, graphiql_assets_dir=assets) as client:
        page = await client.get("/graphql", headers=BROWSER)

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert not re.search(r"https?:|//[a-z]", page.text), "the page must not load from elsewhere"
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources == [
        "/static/graphiql/graphiql.min.css",
        "/static/graphiql/react.production.min.js",
        "/static/graphiql/react-dom.production.min.js",
        "/static/graphiql/graphiql.min.js",
        "/static/graphiql/graphiql-start.js",
    ]
    assert 'data-endpoint="/graphql"' in page.text


async def test_graphiqls_files_are_served_by_the_app(api, assets):
    async with api(graphiql=True, graphiql_assets_dir=assets) as client:
        script = await client.get("/static/graphiql/graphiql.min.js")
        style = await client.get("/static/graphiql/graphiql.min.css")
        start = await client.get("/static/graphiql/graphiql-start.js")
        other = await client.get("/static/graphiql/.installed.json")
        escape = await client.get("/static/graphiql/..%2F..%2Fsettings.py")

    assert script.text == "/* graphiql.min.js */"
    assert script.headers["content-type"].startswith("text/javascript")
    assert style.headers["content-type"].startswith("text/css")
    assert 'credentials: "same-origin"' in start.text  # the session cookie goes along
    assert "shouldPersistHeaders: false" in start.text  # tokens typed into Headers stay unsaved
    assert other.status_code == escape.status_code == 404


async def test_without_its_files_the_page_says_how_to_get_them(api, tmp_path):
    async with api(graphiql=True, graphiql_assets_dir=tmp_path / "empty") as client:
        page = await client.get("/graphql", headers=BROWSER)
        script = await client.get("/static/graphiql/graphiql.min.js")

    assert page.status_code == 200
    assert "kundenportal fetch-graphiql" in page.text
    assert "<script" not in page.text
    assert script.status_code == 404
    assert "fetch-graphiql" in script.text


async def test_graphiql_off_serves_neither_page_nor_files(api, assets):
    async with api(graphiql=False, graphiql_assets_dir=assets) as client:
        page = await client.get("/graphql", headers=BROWSER)
        script = await client.get("/static/graphiql/graphiql.min.js")

    assert page.status_code == 400  # a GET without a document, answered as GraphQL
    assert page.headers["content-type"].startswith("application/json")
    assert script.status_code == 404


async def test_a_browser_get_with_a_document_gets_the_result_not_the_page(api, assets):
    async with api(graphiql=True, graphiql_assets_dir=assets) as client:
        response = await client.get("/graphql", params={"query": "{ apiVersion }"}, headers=BROWSER)
    assert response.json() == {"data": {"apiVersion": "1"}}


# ----------------------------------------------------------- fetching them


def tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def package_for(data: bytes) -> graphiql.VendorPackage:
    return graphiql.VendorPackage(
        "graphiql",
        "3.9.0",
        graphiql.integrity_of(data),
        {"package/graphiql.min.js": "graphiql.min.js"},
    )


def test_a_download_matching_its_recorded_hash_is_unpacked(tmp_path):
    data = tarball({"package/graphiql.min.js": b"ok", "package/other.js": b"not needed"})

    graphiql.install(package_for(data), data, tmp_path)

    assert sorted(p.name for p in tmp_path.iterdir()) == ["graphiql.min.js"]
    assert (tmp_path / "graphiql.min.js").read_bytes() == b"ok"


def test_a_download_not_matching_its_recorded_hash_is_refused(tmp_path):
    genuine = tarball({"package/graphiql.min.js": b"ok"})
    tampered = tarball({"package/graphiql.min.js": b"alert('x')"})

    with pytest.raises(graphiql.IntegrityError, match="does not match"):
        graphiql.install(package_for(genuine), tampered, tmp_path)

    assert list(tmp_path.iterdir()) == []


def test_fetch_downloads_the_pinned_tarballs_once(tmp_path, monkeypatch):
    """The registry is replaced by local tarballs with the packages' files."""
    packages = []
    tarballs = {}
    for package in graphiql.PACKAGES:
        data = tarball({member: b"/* */" for member in package.files})
        fake = graphiql.VendorPackage(
            package.name, package.version, graphiql.integrity_of(data), package.files
        )
        packages.append(fake)
        tarballs[fake.tarball_url("https://registry.example")] = data
    monkeypatch.setattr(graphiql, "PACKAGES", tuple(packages))
    downloaded: list[str] = []

    def download(url: str) -> bytes:
        downloaded.append(url)
        return tarballs[url]

    for _ in range(2):
        graphiql.fetch(
            tmp_path, download=download, registry="https://registry.example", say=lambda _: None
        )

    assert downloaded == [
        "https://registry.example/react/-/react-18.3.1.tgz",
        "https://registry.example/react-dom/-/react-dom-18.3.1.tgz",
        "https://registry.example/graphiql/-/graphiql-3.9.0.tgz",
    ]
    assert graphiql.assets_present(tmp_path)


def test_the_pinned_versions_are_graphiql_3_9_and_react_18():
    pinned = {p.name: p.version for p in graphiql.PACKAGES}
    assert pinned == {"graphiql": "3.9.0", "react": "18.3.1", "react-dom": "18.3.1"}
    assert all(p.integrity.startswith("sha512-") for p in graphiql.PACKAGES)
