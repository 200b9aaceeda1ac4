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
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
LOCK = ROOT / "requirements.lock"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
STAMP = VENV / ".installed"


def run(*cmd: str | Path, **kwargs) -> None:
    subprocess.run([str(c) for c in cmd], check=True, cwd=ROOT, **kwargs)  # noqa: S603


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
