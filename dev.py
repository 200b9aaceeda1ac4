#!/usr/bin/env python3
"""Set-up from nothing but Python 3.11+: a virtual environment from the hashed lock file.

python3 dev.py serve           install, fetch GraphiQL, migrate SQLite, load demo data,
                              serve /graphql (port 8000 unless --port N; prints the URL)
python3 dev.py test            install, run the whole test suite with coverage
python3 dev.py check           ruff (lint, format), mypy and the import contracts (lint-imports)
python3 dev.py schema          write the schema's SDL to schema.graphql
python3 dev.py fetch-graphiql  download GraphiQL's files from the npm registry (hash-checked)
python3 dev.py lock            regenerate requirements.lock from pyproject.toml (needs network)
python3 dev.py bench           load benchmark on PostgreSQL with wrk (README "Performance")
python3 dev.py clients         Node.js: npm ci, codegen and strict tsc in clients/, then Apollo
                              Client and urql against the real server (README "Clients")
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
LOCK = ROOT / "requirements.lock"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
STAMP = VENV / ".installed"


def run(*cmd: str | Path, cwd: Path = ROOT, **kwargs) -> None:
    subprocess.run([str(c) for c in cmd], check=True, cwd=cwd, **kwargs)  # noqa: S603


def ensure_environment() -> None:
    """Create .venv and install the lock file once; again only when the lock changes."""
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py runs on any python3
        sys.exit("Python 3.11 or newer is needed.")
    wanted = hashlib.sha256(LOCK.read_bytes() + (ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    if not PYTHON.exists():
        print("Creating .venv …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    pip = (PYTHON, "-m", "pip", "--disable-pip-version-check", "-q")
    print("Installing locked dependencies …", flush=True)
    run(*pip, "install", "--require-hashes", "--no-deps", "-r", LOCK)
    run(*pip, "install", "--no-deps", "--no-build-isolation", "-e", ".")
    STAMP.write_text(wanted)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def clients(env: dict[str, str]) -> int:
    """The front-end toolchains against this API: not part of `test` or CI (they need
    Node.js and npm), but they must pass before a schema change is released."""
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("dev.py clients needs Node.js 20+ and npm on the PATH.")
    folder = ROOT / "clients"
    for step in (["ci", "--no-audit", "--no-fund"], ["run", "codegen"], ["run", "typecheck"]):
        print(f"clients: npm {' '.join(step)}", flush=True)
        run(npm, *step, cwd=folder)
    run(npm, "run", "build", cwd=folder)
    with tempfile.TemporaryDirectory(prefix="kp-clients-") as tmp:
        server_env = {
            **env,
            "ENV": "test",
            "DATABASE_URL": f"sqlite://{Path(tmp) / 'kundenportal.sqlite3'}",
            "MAIL_DIR": str(Path(tmp) / "mail"),
            "LOG_LEVEL": "WARNING",
        }
        kp = str(BIN / "kundenportal")
        subprocess.run([kp, "migrate"], cwd=ROOT, env=server_env, check=True)  # noqa: S603
        subprocess.run(  # noqa: S603
            [kp, "seed-demo"], cwd=ROOT, env=server_env, check=True, stdout=subprocess.DEVNULL
        )
        # A partner whose trusted documents are Code Generator's persisted-documents.json.
        added = subprocess.run(  # noqa: S603
            [kp, "partner", "add", "clients-check"],
            cwd=ROOT,
            env=server_env,
            check=True,
            capture_output=True,
            text=True,
        )
        key = re.search(r"\bkp_\S+", added.stdout)
        if key is None:
            sys.exit(f"clients: no partner key in {added.stdout!r}")
        manifest = folder / "src" / "gql" / "persisted-documents.json"
        run(kp, "partner", "upload", "clients-check", manifest, env=server_env)
        port = free_port()
        log = Path(tmp) / "server.log"
        with log.open("w") as out:
            server = subprocess.Popen(  # noqa: S603
                [kp, "serve", "--no-migrate", "--port", str(port)],
                cwd=ROOT,
                env=server_env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(base + "/readyz", timeout=5):  # noqa: S310
                        break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        print(log.read_text(), file=sys.stderr)
                        sys.exit("clients: the server did not start.")
                    time.sleep(0.2)
            check = ["node", "--conditions=development", "check.mjs"]
            args = ["--url", base + "/graphql", "--mail-dir", server_env["MAIL_DIR"]]
            args += ["--partner-key", key.group(0)]
            code = subprocess.run([*check, *args], cwd=folder, env=env).returncode  # noqa: S603
        finally:
            server.terminate()
            server.wait(timeout=30)
        if code:
            lines = log.read_text().splitlines()
            problems = [line for line in lines if re.search("ERROR|Traceback", line)]
            print("\n".join(problems[-40:]), file=sys.stderr)
        return code


def main(argv: list[str]) -> int:
    what = argv[0] if argv else "serve"
    rest = argv[1:]
    if what == "lock":
        run(
            sys.executable,
            "-m",
            "uv",
            "pip",
            "compile",
            "pyproject.toml",
            "--extra",
            "dev",
            "--generate-hashes",
            "--python-version",
            "3.11",
            "--universal",
            "-o",
            LOCK,
            "--no-header",
            "--quiet",
        )
        return 0
    ensure_environment()
    env = dict(os.environ)
    kp = BIN / "kundenportal"
    if what == "serve":
        env.setdefault("ENV", "dev")
        if subprocess.run([str(kp), "fetch-graphiql"], cwd=ROOT, env=env).returncode:  # noqa: S603
            print("GraphiQL stays unavailable; the API itself works.", flush=True)
        run(kp, "migrate", env=env)
        run(kp, "seed-demo", env=env)
        run(kp, "serve", "--no-migrate", *rest, env=env)
        return 0
    if what == "test":
        cmd = [PYTHON, "-m", "pytest", "--cov", "--cov-report=term:skip-covered", *rest]
        return subprocess.run([str(c) for c in cmd], cwd=ROOT, env=env).returncode  # noqa: S603
    if what == "bench":
        cmd = [PYTHON, "-m", "benchmarks.load", *rest]
        return subprocess.run([str(c) for c in cmd], cwd=ROOT, env=env).returncode  # noqa: S603
    if what == "clients":
        return clients(env)
    if what == "schema":
        run(kp, "export-schema", *rest, env=env)
        return 0
    if what == "fetch-graphiql":
        run(kp, "fetch-graphiql", *rest, env=env)
        return 0
    if what == "check":
        run(BIN / "ruff", "check", ".")
        run(BIN / "ruff", "format", "--check", ".")
        run(BIN / "mypy", ".")
        run(BIN / "lint-imports", "--no-logo")
        return 0
    sys.exit(__doc__)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except subprocess.CalledProcessError as error:
        sys.exit(error.returncode)
    except KeyboardInterrupt:
        sys.exit(130)
