"""GraphiQL for developers, served by the app itself: no CDN, works offline.

GraphiQL 3.9.0 is the last release with a browser build (`graphiql.min.js`)
that runs on the UMD builds of React 18; later ones need a bundler. The files
are third-party code and stay out of git: `kundenportal fetch-graphiql` (run
by `python3 dev.py serve`) downloads the pinned tarballs from the npm
registry, checks each against the integrity hash recorded below (the sha512
the registry publishes for that version), and unpacks the few files needed
into `settings.graphiql_assets_dir` (git-ignored). Without them the page says
how to get them.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import os
import tarfile
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response

from settings import Settings

OWN_STATIC = Path(__file__).resolve().parent / "static"
START_SCRIPT = "graphiql-start.js"
ASSET_PATH = "/static/graphiql/"


@dataclass(frozen=True)
class VendorPackage:
    """One npm package version and the files the page needs from its tarball."""

    name: str
    version: str
    integrity: str  # the registry's `dist.integrity` for this version
    files: dict[str, str] = field(default_factory=dict)  # path in the tarball -> served name

    def tarball_url(self, registry: str) -> str:
        return f"{registry.rstrip('/')}/{self.name}/-/{self.name}-{self.version}.tgz"


PACKAGES = (
    VendorPackage(
        "react",
        "18.3.1",
        "sha512-wS+hAgJShR0KhEvPJArfuPVN1+Hz1t0Y6n5jLrGQbkb4urgPE/0Rve+1kMB1v/oWgHgm4WIcV+i7F2pTVj+2iQ==",
        {
            "package/umd/react.production.min.js": "react.production.min.js",
            "package/LICENSE": "react.LICENSE.txt",
        },
    ),
    VendorPackage(
        "react-dom",
        "18.3.1",
        "sha512-5m4nQKp+rZRb09LNH59GM4BxTh9251/ylbKIbpe7TpGxfJ+9kv6BLkLBXIjjspbgbnIBNqlI23tRnTWT0snUIw==",
        {
            "package/umd/react-dom.production.min.js": "react-dom.production.min.js",
            "package/LICENSE": "react-dom.LICENSE.txt",
        },
    ),
    VendorPackage(
        "graphiql",
        "3.9.0",
        "sha512-rJYFlHdBbug9+YbFSwRVvgfPjCayC7wHecZkx/qB4XLuQPFQZw/yB9pmHFtOJV6RiNBBHro3u1GdocKa3YcGRA==",
        {
            "package/graphiql.min.js": "graphiql.min.js",
            "package/graphiql.min.css": "graphiql.min.css",
            "package/LICENSE": "graphiql.LICENSE.txt",
        },
    ),
)

# In the order the page loads them: React before ReactDOM before GraphiQL.
SCRIPTS = ("react.production.min.js", "react-dom.production.min.js", "graphiql.min.js")
STYLES = ("graphiql.min.css",)
SERVED = frozenset(name for p in PACKAGES for name in p.files.values() if not name.endswith(".txt"))
STAMP = ".installed.json"

MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}

# The page loads only from this server; GraphiQL's editor styles some elements inline.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


class IntegrityError(RuntimeError):
    """A download does not match its recorded hash; nothing of it was unpacked."""


def integrity_of(data: bytes) -> str:
    """Subresource-integrity form of the SHA-512, as npm publishes it."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def install(package: VendorPackage, tarball: bytes, dest: Path) -> None:
    """Check the tarball against the recorded integrity, then unpack the needed files."""
    if integrity_of(tarball) != package.integrity:
        raise IntegrityError(
            f"{package.name}@{package.version}: the download does not match its recorded "
            f"integrity {package.integrity}; refusing to install it."
        )
    contents: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        for member_name, served in package.files.items():
            member = archive.getmember(member_name)
            extracted = archive.extractfile(member) if member.isfile() else None
            if extracted is None:
                raise IntegrityError(f"{package.name}: {member_name} is not a file")
            contents[served] = extracted.read()
    dest.mkdir(parents=True, exist_ok=True)
    for served, data in contents.items():
        partial_file = dest / (served + ".part")
        partial_file.write_bytes(data)
        partial_file.replace(dest / served)


def _installed(dest: Path) -> dict[str, str]:
    try:
        return json.loads((dest / STAMP).read_text())
    except (OSError, ValueError):
        return {}


def _download(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - fixed https URL
        return response.read()


def fetch(
    dest: Path,
    *,
    download: Callable[[str], bytes] = _download,
    registry: str | None = None,
    force: bool = False,
    say: Callable[[str], None] = print,
) -> None:
    """Download and install every package not yet installed at its pinned version."""
    registry = registry or os.environ.get("NPM_CONFIG_REGISTRY") or "https://registry.npmjs.org"
    installed = _installed(dest)
    for package in PACKAGES:
        present = all((dest / name).is_file() for name in package.files.values())
        if not force and present and installed.get(package.name) == package.integrity:
            continue
        say(f"Fetching {package.name}@{package.version} …")
        install(package, download(package.tarball_url(registry)), dest)
        installed[package.name] = package.integrity
        (dest / STAMP).write_text(json.dumps(installed, indent=2) + "\n")
    say(f"GraphiQL's files are in {dest}.")


def assets_present(dest: Path) -> bool:
    return all((dest / name).is_file() for name in SERVED)


# ----------------------------------------------------------------- the page

MISSING = """\
<p class="missing">GraphiQL's files are not installed on this server, so the IDE cannot start.
Run <code>python3 dev.py fetch-graphiql</code> (or <code>kundenportal fetch-graphiql</code>)
once, with access to the npm registry, then reload this page.
The API itself works: POST GraphQL to <code>{endpoint}</code>.</p>"""


def page(endpoint: str, settings: Settings) -> str:
    """GraphiQL's HTML: everything it loads comes from this server."""
    endpoint_attr = html.escape(endpoint, quote=True)
    if assets_present(settings.graphiql_assets_dir):
        head = "".join(f'<link rel="stylesheet" href="{ASSET_PATH}{n}">' for n in STYLES)
        body = (
            f'<div id="graphiql" data-endpoint="{endpoint_attr}">Loading GraphiQL …</div>'
            + "".join(f'<script src="{ASSET_PATH}{n}"></script>' for n in SCRIPTS)
            + f'<script src="{ASSET_PATH}{START_SCRIPT}"></script>'
        )
    else:
        head = ""
        body = MISSING.format(endpoint=endpoint_attr)
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Kundenportal API · GraphiQL</title>
<style>html, body, #graphiql {{ height: 100%; margin: 0; }}
.missing {{ font: 16px/1.5 system-ui, sans-serif; max-width: 40em; margin: 3em auto; }}</style>
{head}
</head>
<body>
{body}
</body>
</html>
"""


def page_response(endpoint: str, settings: Settings) -> Response:
    return HTMLResponse(
        page(endpoint, settings),
        headers={
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


async def asset(request: Request) -> Response:
    """One of GraphiQL's files; only the known names, only while GraphiQL is on."""
    settings: Settings = request.app.state.settings
    name = request.path_params["name"]
    if not settings.graphiql_enabled:
        return PlainTextResponse("Not Found", status_code=404)
    if name == START_SCRIPT:
        path = OWN_STATIC / name
    elif name in SERVED:
        path = settings.graphiql_assets_dir / name
    else:
        return PlainTextResponse("Not Found", status_code=404)
    if not path.is_file():
        return PlainTextResponse(
            "GraphiQL's files are not installed: run `kundenportal fetch-graphiql`.",
            status_code=404,
        )
    return FileResponse(
        path,
        media_type=MEDIA_TYPES[path.suffix],
        headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )
