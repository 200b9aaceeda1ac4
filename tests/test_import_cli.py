"""`kundenportal import` as staff run it: a real process, its output and its exit code."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from models import Customer

ROOT = Path(__file__).resolve().parent.parent

CUSTOMERS = (
    "kundennummer;name;strasse;plz;ort\n"
    "100001;Erika Mustermann;Hauptstraße 1;12345;Musterstadt\n"
    "100002;Max Mustermann;Bahnhofstraße 7;12345;Musterstadt\n"
)


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str


async def kundenportal(database_url: str, *args: str, env: dict[str, str] | None = None) -> Run:
    """Run the command line in its own process against the test database."""
    env = {**os.environ, "ENV": "test", "DATABASE_URL": database_url, **(env or {})}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cli",
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await process.communicate()
    assert process.returncode is not None
    return Run(process.returncode, stdout.decode(), stderr.decode())


async def test_import_exits_0_and_says_what_it_did(app, settings, tmp_path):
    path = tmp_path / "kunden.csv"
    path.write_text(CUSTOMERS, encoding="utf-8")

    run = await kundenportal(settings.database_url, "import", "customers", str(path))

    assert run.code == 0, run.stderr
    assert f"{path}: imported 2 customers rows: 2 new, 0 updated, 0 unchanged" in run.stdout
    assert run.stderr == ""
    assert await Customer.all().count() == 2


async def test_import_exits_1_lists_bad_lines_on_stderr_and_imports_nothing(
    app, settings, tmp_path
):
    path = tmp_path / "kunden.csv"
    path.write_text(CUSTOMERS + "100003;;Weg 3;12345;Musterstadt\n100001;Erika;;;\n")

    run = await kundenportal(settings.database_url, "import", "customers", str(path))

    assert run.code == 1
    assert run.stderr.splitlines() == [
        f"{path}:4: name is empty",
        f"{path}:5: customer number 100001 appears twice (first on line 2)",
        f"{path}: 2 bad line(s), nothing imported (customers, 4 data rows).",
    ]
    assert run.stdout == ""
    assert await Customer.all().count() == 0


async def test_import_exits_2_for_a_missing_file_or_an_unknown_kind(app, settings, tmp_path):
    missing = await kundenportal(
        settings.database_url, "import", "customers", str(tmp_path / "nowhere.csv")
    )
    unknown = await kundenportal(settings.database_url, "import", "tariffs", str(tmp_path))

    assert missing.code == 2
    assert "nowhere.csv: No such file or directory" in missing.stderr
    assert unknown.code == 2
    assert "invalid choice: 'tariffs'" in unknown.stderr


async def test_progress_bar_is_drawn_on_stderr_only_when_asked_or_on_a_terminal(
    app, settings, tmp_path
):
    path = tmp_path / "kunden.csv"
    path.write_text(CUSTOMERS)

    shown = await kundenportal(
        settings.database_url, "import", "customers", str(path), "--progress"
    )
    default = await kundenportal(settings.database_url, "import", "customers", str(path))

    assert shown.code == 0
    assert "\rchecking   [" in shown.stderr
    assert "\rwriting    [##############################] 100%  2/2" in shown.stderr
    assert default.code == 0
    assert default.stderr == ""


async def test_dry_run_exits_0_and_writes_nothing(app, settings, tmp_path):
    path = tmp_path / "kunden.csv"
    path.write_text(CUSTOMERS)

    run = await kundenportal(settings.database_url, "import", "customers", str(path), "--dry-run")

    assert run.code == 0
    assert "would import 2 customers rows: 2 new" in run.stdout
    assert await Customer.all().count() == 0
