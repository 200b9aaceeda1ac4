"""The one clock: nothing else reads the wall clock (ruff's DTZ rules keep it so).

Times are aware and in UTC; dates that follow the utility's calendar (reading
periods, the import's "today") are the date in the utility's time zone, which
the caller passes from `settings.utility_timezone`. Tests move this clock with
time-machine.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo


def now() -> dt.datetime:
    """The current instant, aware, in UTC."""
    return dt.datetime.now(dt.UTC)


def utility_today(zone: str) -> dt.date:
    """Today at the utility: the calendar date in time zone `zone` (e.g. Europe/Berlin).

    At 00:30 in Berlin it is still yesterday in UTC; reading periods open and
    close on the utility's dates, so they must be asked this, never UTC's date.
    """
    return now().astimezone(ZoneInfo(zone)).date()
