"""The first round's code measured again, on this machine, within the load benchmark's run.

Two of the dashboard's targets were set against the first round's figures: twice its
throughput (226 requests/s) and half its CPU per request (4.4 ms, rounded to 2.2), on
the machine of that day. Machines this benchmark has run on differ by three times and
more in Python's speed, so an absolute figure says as much about the machine as about
the code. This module checks the first round's commit out into a temporary git
worktree and runs that commit's own benchmark (`python3 dev.py bench`, its own
dependencies, data and mixes, with the sizes of this run), then reads its dashboard
figures from its results file. The load benchmark compares this run's dashboard with
them, beside the absolute targets.

The first round's benchmark takes 3½–5½ minutes and a second `.venv` in the
worktree; `--no-baseline` leaves it out. Without git or the commit (a shallow clone),
the run says why and keeps the absolute targets alone.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIRST_ROUND = "062e60e0e6aa54c55dad3368e927ae70cf728ca4"
"""The commit whose benchmark gave the first round's figures (dashboard 226 req/s)."""

TIMEOUT_SECONDS = 40 * 60
"""Installing its dependencies and running its benchmark; it took 3½–5½ minutes."""

# The options of this run that the first round's benchmark takes as well (`register_flows`
# apart, below).
PASSED_ON = (
    "customers",
    "logins",
    "multi_logins",
    "multi_size",
    "seconds",
    "connections",
    "threads",
    "login_clients",
    "probe_connections",
    "probe_seconds",
    "pool",
    "admin_url",
    "redis_url",
)


@dataclass(frozen=True)
class Baseline:
    """The first round's dashboard as its benchmark measured it in this run."""

    commit: str
    rps: float
    app_cpu_ms: float
    persisted_rps: float
    persisted_app_cpu_ms: float
    seconds: float
    log: str


def options(args: argparse.Namespace) -> list[str]:
    """This run's sizes as the first round's `benchmarks.load` takes them."""
    passed: list[str] = []
    for name in PASSED_ON:
        passed += [f"--{name.replace('_', '-')}", str(getattr(args, name))]
    # Without its register mix. That mix ends the first round's whole run, results
    # unwritten, when a PIN mail is 30 s late, as mail delivered one at a time could be:
    # on a fast machine in two runs of three. Only the dashboard is read from it, and its
    # mixes run before that one.
    passed += ["--register-flows", "0"]
    if args.no_redis:
        passed.append("--no-redis")
    return passed


def _git(*command: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *command],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def measure(args: argparse.Namespace, log_dir: Path, log: Callable[[str], None]) -> Baseline | str:
    """Run the first round's benchmark; its figures, or why there are none."""
    try:
        found = _git("cat-file", "-e", f"{FIRST_ROUND}^{{commit}}")
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"git is not available ({type(error).__name__})"
    if found.returncode:
        return f"commit {FIRST_ROUND[:7]} is not in this clone (a shallow clone?)"
    log_dir.mkdir(exist_ok=True)
    log_path = log_dir / f"baseline-{time.strftime('%Y%m%d-%H%M%S')}-{FIRST_ROUND[:7]}.log"
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="kp-baseline-") as tmp:
        tree = Path(tmp) / "first-round"
        added = _git("worktree", "add", "--detach", str(tree), FIRST_ROUND)
        if added.returncode:
            return f"git worktree add failed: {added.stderr.strip()[:200]}"
        try:
            passed = options(args)
            command = [sys.executable, "dev.py", "bench", *passed]
            log(f"  {FIRST_ROUND[:7]}: python3 dev.py bench {' '.join(passed)}")
            with log_path.open("w") as out:
                try:
                    ran = subprocess.run(
                        command,
                        cwd=tree,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        timeout=TIMEOUT_SECONDS,
                        check=False,
                    )
                except subprocess.TimeoutExpired:
                    return f"its benchmark took over {TIMEOUT_SECONDS // 60} minutes ({log_path})"
            results = sorted((tree / "benchmarks" / "results").glob("load-*.json"))
            if ran.returncode or not results:
                return f"its benchmark failed (exit {ran.returncode}; {log_path})"
            try:
                mixes = json.loads(results[-1].read_text())["mixes"]
                plain, persisted = mixes["dashboard"], mixes["dashboard, persisted (APQ GET)"]
                return Baseline(
                    commit=FIRST_ROUND[:7],
                    rps=float(plain["rps"]),
                    app_cpu_ms=float(plain["app_cpu_ms"]),
                    persisted_rps=float(persisted["rps"]),
                    persisted_app_cpu_ms=float(persisted["app_cpu_ms"]),
                    seconds=round(time.perf_counter() - started, 1),
                    log=str(log_path),
                )
            except (OSError, ValueError, KeyError, TypeError) as error:
                return f"its results could not be read ({type(error).__name__}; {log_path})"
        finally:
            _git("worktree", "remove", "--force", str(tree))
            _git("worktree", "prune")
