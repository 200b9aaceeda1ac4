"""The reading rules as pure functions, without a database: reading windows
(R13–R15), exchange, expected use, yearly consumption, value syntax."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from tortoise import Tortoise

from models import Meter, MeterKind, MeterReading, ReadingPeriod, ReadingSource
from models.customer_codes import CustomerErrorCode as C
from models.customers import WindowState
from resolvers.base_data import clean_base_data
from resolvers.readings import assess_reading, format_m3, parse_value

D = dt.date


@pytest.fixture(autouse=True, scope="module")
def _models():
    """Relations need the model registry, not a database."""
    Tortoise.init_models(["models"], "models")


def meter(kind=MeterKind.MANUAL, installed_on=D(2015, 1, 1), removed_on=None) -> Meter:
    return Meter(id=1, number="Z-1", kind=kind, installed_on=installed_on, removed_on=removed_on)


def period(starts_on, ends_on, key_date=None) -> ReadingPeriod:
    return ReadingPeriod(starts_on=starts_on, ends_on=ends_on, key_date=key_date or ends_on)


_ids = iter(range(1, 10_000))


def reading(value, read_on, source=ReadingSource.STAFF, replaced_by_id=None) -> MeterReading:
    return MeterReading(
        id=next(_ids),
        meter_id=1,
        value=Decimal(value),
        read_on=read_on,
        source=source,
        replaced_by_id=replaced_by_id,
    )


PERIODS = [period(D(2024, 3, 1), D(2024, 3, 31)), period(D(2025, 3, 1), D(2025, 3, 31))]


@pytest.mark.parametrize(
    ("on", "state", "starts_on", "ends_on"),
    [
        (D(2025, 3, 1), WindowState.OPEN, D(2025, 3, 1), D(2025, 3, 31)),
        (D(2025, 3, 31), WindowState.OPEN, D(2025, 3, 1), D(2025, 3, 31)),
        (D(2025, 2, 28), WindowState.UPCOMING, D(2025, 3, 1), D(2025, 3, 31)),
        (D(2024, 4, 1), WindowState.UPCOMING, D(2025, 3, 1), D(2025, 3, 31)),
        (D(2025, 4, 1), WindowState.NONE, None, None),
    ],
)
def test_manual_meter_window_is_open_until_or_names_the_next(on, state, starts_on, ends_on):
    window = meter().reading_window(PERIODS, on)
    assert (window.state, window.starts_on, window.ends_on) == (state, starts_on, ends_on)
    assert window.accepts_readings is (state == WindowState.OPEN)


@pytest.mark.parametrize(
    ("on", "key_date"),
    [
        (D(2025, 3, 10), D(2025, 3, 31)),  # within a period: its key date
        (D(2024, 12, 1), D(2025, 3, 31)),  # between periods: the next key date
        (D(2025, 6, 1), D(2025, 3, 31)),  # none ahead: the last one
    ],
)
def test_radio_meter_never_opens_and_names_its_key_date(on, key_date):
    window = meter(kind=MeterKind.RADIO).reading_window(PERIODS, on)
    assert window.state == WindowState.RADIO
    assert window.key_date == key_date
    assert not window.accepts_readings


def test_radio_meter_without_periods_has_no_key_date():
    assert meter(kind=MeterKind.RADIO).reading_window([], D(2025, 1, 1)).key_date is None


def test_removed_meter_takes_no_reading_even_in_a_period():
    gone = meter(removed_on=D(2025, 3, 5))
    assert gone.reading_window(PERIODS, D(2025, 3, 4)).state == WindowState.OPEN
    assert gone.reading_window(PERIODS, D(2025, 3, 5)).state == WindowState.REMOVED


def history() -> list[MeterReading]:
    """The demo's main meter: about 95 m³ a year."""
    return [
        reading("812.000", D(2022, 12, 15)),
        reading("905.500", D(2023, 12, 15)),
        reading("1001.250", D(2024, 12, 15)),
    ]


def assess(value, past=None, m=None, confirm=False):
    return assess_reading(
        m or meter(),
        meter().reading_window(PERIODS, D(2025, 3, 10)),
        history() if past is None else past,
        Decimal(value),
        on=D(2025, 3, 10),
        confirm_unusual=confirm,
        factor=3.0,
        floor_m3=5.0,
    )


def test_value_below_the_last_reading_is_refused():
    problem = assess("1001.249").problem
    assert problem.code == C.BELOW_LAST_READING
    assert problem.params == {"lastValue": Decimal("1001.250"), "lastReadOn": D(2024, 12, 15)}
    assert assess("1001.250").problem is None


def test_value_below_the_last_reading_is_taken_after_an_exchange():
    exchanged = meter(installed_on=D(2025, 1, 10))
    assert assess("0.5", m=exchanged).problem is None


def test_usual_ceiling_follows_past_use():
    # 189.25 m³ in 731 days, 85 days since the last reading, factor 3
    past = history()
    ceiling = meter().usual_ceiling(past, past[-1], D(2025, 3, 10), factor=3.0, floor_m3=5.0)
    expected = Decimal("1001.25") + Decimal("189.25") / 731 * 85 * 3
    assert abs(ceiling - expected) < Decimal("0.001")
    assert assess("1067").problem is None
    assert assess("1068").problem.code == C.UNUSUAL_CONSUMPTION
    assert assess("1068", confirm=True).problem is None


def test_short_history_gives_no_expectation():
    short = [reading("10", D(2025, 2, 1)), reading("11", D(2025, 2, 20))]
    assert assess("900", past=short).problem is None


def test_tiny_expected_use_still_allows_the_floor():
    flat = [reading("100", D(2023, 1, 1)), reading("100", D(2024, 12, 15))]
    assert assess("104.9", past=flat).problem is None
    assert assess("105.1", past=flat).problem.code == C.UNUSUAL_CONSUMPTION


def test_a_customer_reading_in_the_open_period_is_corrected_against_the_one_before():
    sent = reading("1010", D(2025, 3, 5), source=ReadingSource.CUSTOMER)
    past = [*history(), sent]
    lower = assess("1005", past=past)
    assert lower.problem is None
    assert lower.corrects is sent
    assert assess("1000", past=past).problem.code == C.BELOW_LAST_READING


def test_a_staff_reading_in_the_period_is_not_corrected():
    staff = reading("1010", D(2025, 3, 5))
    assert assess("1012", past=[*history(), staff]).corrects is None
    assert assess("1005", past=[*history(), staff]).problem.code == C.BELOW_LAST_READING


def test_closed_window_refuses_before_any_value_check():
    closed = meter().reading_window(PERIODS, D(2025, 4, 10))
    outcome = assess_reading(
        meter(),
        closed,
        history(),
        Decimal("1"),
        on=D(2025, 4, 10),
        confirm_unusual=False,
        factor=3.0,
        floor_m3=5.0,
    )
    assert outcome.problem.code == C.OUTSIDE_READING_PERIOD


def test_yearly_consumption_skips_corrections_and_exchanges():
    corrected = reading("2000", D(2023, 6, 1), replaced_by_id=999)
    history = [
        reading("100", D(2021, 12, 1)),
        reading("150", D(2022, 12, 1)),
        corrected,
        reading("190", D(2023, 6, 2)),
        reading("210", D(2023, 12, 1)),
        reading("5", D(2024, 12, 1)),  # new device installed 2024-05-01
        reading("30", D(2025, 3, 1)),
    ]
    exchanged = meter(installed_on=D(2024, 5, 1))
    assert exchanged.yearly_consumption(history) == [
        (2022, Decimal("50")),
        (2023, Decimal("60")),
        (2025, Decimal("25")),
    ]


@pytest.mark.parametrize(
    ("given", "taken"),
    [
        ("12.5", Decimal("12.500")),
        ("0", Decimal("0.000")),
        ("12.5000", Decimal("12.500")),
        ("999999999.999", Decimal("999999999.999")),
        ("-0.001", None),
        ("1.0001", None),
        ("1000000000", None),
        ("NaN", None),
        ("Infinity", None),
    ],
)
def test_reading_values_are_m3_with_three_decimals(given, taken):
    assert parse_value(Decimal(given)) == taken


def test_m3_are_written_the_way_each_language_writes_numbers():
    assert format_m3(Decimal("1234.500"), "de") == "1.234,5"
    assert format_m3(Decimal("1234.500"), "en") == "1,234.5"
    assert format_m3(Decimal("1010.000"), "de") == "1.010"


def test_base_data_is_trimmed_and_checked():
    cleaned, problems = clean_base_data(
        {"name": "  Erika   Muster ", "postal_code": "1234", "phone": "", "email": None}
    )
    assert cleaned == {"name": "Erika Muster", "phone": ""}
    assert [(p.code, p.field) for p in problems] == [
        (C.POSTAL_CODE_INVALID, ("input", "postalCode"))
    ]
