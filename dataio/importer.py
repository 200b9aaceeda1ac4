"""`kundenportal import KIND FILE`: master data from the billing system, all or nothing.

A file is read and every row checked before anything is written: its own values,
keys that appear twice in the file, and what it refers to in the database
(customer numbers, meter numbers, meter groups, one main meter per customer).
A file with one bad row imports nothing; the report names every bad row with its
line number and reason, so the file is fixed in one round. A good file is
upserted by its natural key in one transaction, thousands of rows per statement:
importing the same file again changes nothing, a changed row is updated in place,
and an import never deletes anything.

The billing system owns these rows. Re-importing a customer overwrites its base
data with the billing system's; the consent to online communication (R11) is the
portal's and is never touched by an import.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path

from tortoise.transactions import in_transaction

from dataio.bulk import BatchRefused, Bulk
from dataio.csvformat import Problem, read_table
from dataio.import_kinds import KINDS, Fields
from dataio.progress import Progress


@dataclass
class ImportReport:
    """What an import did, or every reason why it did nothing."""

    kind: str
    source: str
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    dry_run: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def bad_lines(self) -> int:
        return len({p.line for p in self.problems})

    def summary(self) -> str:
        if not self.ok:
            return (
                f"{self.source}: {self.bad_lines} bad line(s), nothing imported "
                f"({self.kind}, {self.rows} data rows)."
            )
        verb = "would import" if self.dry_run else "imported"
        return (
            f"{self.source}: {verb} {self.rows} {self.kind} rows: {self.inserted} new, "
            f"{self.updated} updated, {self.unchanged} unchanged ({self.seconds:.1f} s)."
        )


class _DryRun(Exception):
    """Rolls back a dry run's transaction after the writes were tried."""


async def import_file(
    kind: str,
    path: Path,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
    today: dt.date,
) -> ImportReport:
    """Import one file of `kind` (a key of KINDS); the database must be open.

    Raises OSError when the file cannot be read.
    """
    data = await asyncio.to_thread(path.read_bytes)
    return await import_data(kind, data, str(path), dry_run=dry_run, progress=progress, today=today)


async def import_data(
    kind: str,
    data: bytes,
    source: str,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
    today: dt.date,
) -> ImportReport:
    """Check all rows, then upsert them in one transaction, or write nothing at all."""
    started = time.perf_counter()
    spec = KINDS[kind]
    progress = progress or Progress(enabled=False)
    report = ImportReport(kind=kind, source=source, dry_run=dry_run)

    table = read_table(data, required=spec.required, optional=spec.optional)
    problems = table.problems
    if table.rows:
        problems.extend(spec.header_problems(table.columns))
    if any(p.line == 1 for p in problems):
        report.problems = problems
        return _finish(report, started)
    report.rows = len(table.rows)
    progress.start("checking", len(table.rows))
    records = []
    first_line: dict[Hashable, int] = {}
    for row in table.rows:
        fields = Fields(row)
        record = spec.parse(fields, row.line)
        progress.advance(1)
        if fields.errors:
            problems.extend(Problem(row.line, error) for error in fields.errors)
            continue
        key = spec.key(record)
        if (first := first_line.get(key)) is not None:
            problems.append(
                Problem(row.line, f"{spec.describe(key)} appears twice (first on line {first})")
            )
            continue
        first_line[key] = row.line
        records.append(record)
    progress.finish()

    try:
        async with in_transaction() as connection:
            bulk = Bulk(connection)
            if records:
                problems.extend(await spec.check(records, bulk, today))
            if problems:
                report.problems = sorted(dict.fromkeys(problems), key=lambda p: p.line)
                return _finish(report, started)
            if records:
                report.inserted = len(records) - await spec.existing(records, bulk)
                progress.start("writing", len(records))
                written = await spec.write(records, bulk, set(table.columns), progress.advance)
                progress.finish()
                report.updated = written - report.inserted
                report.unchanged = len(records) - written
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    except BatchRefused as refused:
        progress.finish()
        report.inserted = report.updated = report.unchanged = 0
        report.problems = [
            Problem(
                refused.first_line,
                f"the database refused the rows of lines {refused.first_line} to "
                f"{refused.last_line}: {refused.error}",
            )
        ]
    return _finish(report, started)


def _finish(report: ImportReport, started: float) -> ImportReport:
    report.seconds = time.perf_counter() - started
    return report
