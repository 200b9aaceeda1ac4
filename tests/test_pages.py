"""Keyset pages (`resolvers.pages`) cut by the database: a page after a position holds
exactly the rows behind it, also where the sort key is a point in time."""

from __future__ import annotations

import datetime as dt

from models import Session
from resolvers.pages import Keyset, newest_first_pages
from tests.factories import make_login, session_token


async def test_a_page_after_a_point_in_time_starts_right_behind_it(outbox, clock):
    # given: three sessions of one login, started an hour apart on the same day
    login = await make_login()
    for _ in range(3):
        await session_token(login, outbox)
        clock.shift(dt.timedelta(hours=1))
    sessions = await Session.filter(login=login).order_by("created_at")
    newest = sessions[2]

    # when: the page of one after the newest is asked for
    [page] = await newest_first_pages(
        Session, "login_id", "created_at", [login.id], 1, Keyset(newest.created_at, newest.id)
    )

    # then: it holds the one just before it (on SQLite the times compare as stored text)
    assert [row.id for row in page.rows] == [sessions[1].id]
    assert page.total == 3
    assert page.has_next
