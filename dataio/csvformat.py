"""CSV the way the billing system writes and reads it (German conventions).

`;` between fields, `"` around fields that contain one, a decimal comma with
optional thousands dots (`1.234,56`), dates as `TT.MM.JJJJ` (ISO `JJJJ-MM-TT`
is read too), UTF-8 with or without a byte-order mark, a header row naming the
columns. Reading never stops at the first problem: every bad line is reported
with its line number, so that a file is fixed in one round.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from typing import Any, TextIO, TypeVar

SEPARATOR = ";"
E = TypeVar("E", bound=Enum)


@dataclass(frozen=True, order=True)
class Problem:
    """Why a line of a file cannot be imported (line 1 is the header)."""

    line: int
    message: str


class FieldError(ValueError):
    """A single value does not follow the conventions; the message says how it should look."""


@dataclass(frozen=True)
class Row:
    """One data row: its first physical line in the file and its values by column."""

    line: int
    values: dict[str, str]


@dataclass
class Table:
    """The rows of a file that could be split into fields, and the lines that could not."""

    columns: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def column_name(header: str) -> str:
    """`Zählernummer`, ` zaehlernummer ` and `Zähler-Nummer` all name `zaehlernummer`;
    `Eingebaut am` names `eingebaut_am`, `E-Mail` names `email`."""
    name = header.strip().lower()
    for umlaut, plain in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        name = name.replace(umlaut, plain)
    return re.sub(r"[\s.]+", "_", name.replace("-", "")).strip("_")


def decode(data: bytes) -> tuple[str, list[Problem]]:
    """UTF-8 text without a byte-order mark, or the lines that are not UTF-8."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError:
        pass
    problems = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as error:
            byte = raw[error.start]
            problems.append(
                Problem(
                    number,
                    f"not UTF-8 (byte 0x{byte:02X} at position {error.start + 1}); "
                    "save the file as UTF-8",
                )
            )
    return "", problems


def read_table(data: bytes, *, required: Sequence[str], optional: Sequence[str] = ()) -> Table:
    """Split a file into rows of named values, checking the header and the field counts.

    Column order is free; a missing required column or an unknown one is a problem of
    line 1 (an unknown column is likely a misspelt optional one whose data would be
    lost). Blank lines and lines of empty fields only (as spreadsheets append) are skipped.
    """
    table = Table()
    text, table.problems = decode(data)
    if table.problems:
        return table
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=SEPARATOR, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        table.problems.append(Problem(1, "the file is empty; expected a header row"))
        return table
    except csv.Error as error:
        table.problems.append(Problem(1, f"header row is not valid CSV: {error}"))
        return table
    table.columns = [column_name(h) for h in header]
    table.problems.extend(_header_problems(header, table.columns, required, optional))
    if table.problems:
        return table
    width = len(table.columns)
    while True:
        line = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            table.problems.append(Problem(line, f"not valid CSV: {error}"))
            continue
        if not any(f.strip() for f in fields):
            continue
        if len(fields) != width:
            table.problems.append(
                Problem(line, f"expected {width} fields separated by ';', found {len(fields)}")
            )
            continue
        table.rows.append(
            Row(line, {c: f.strip() for c, f in zip(table.columns, fields, strict=True)})
        )
    return table


def _header_problems(
    header: list[str], columns: list[str], required: Sequence[str], optional: Sequence[str]
) -> Iterator[Problem]:
    if len(header) == 1 and ("," in header[0] or "\t" in header[0]):
        yield Problem(1, "columns must be separated by ';'")
        return
    known = set(required) | set(optional)
    seen: set[str] = set()
    for raw, name in zip(header, columns, strict=True):
        if name in seen:
            yield Problem(1, f"column '{raw.strip()}' appears twice")
        elif name not in known:
            yield Problem(
                1,
                f"unknown column '{raw.strip()}' (columns: {', '.join([*required, *optional])})",
            )
        seen.add(name)
    for name in required:
        if name not in seen:
            yield Problem(1, f"column '{name}' is missing")


# ------------------------------------------------------------------------ values

_GERMAN_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_GERMAN_NUMBER = re.compile(r"-?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?")
_POINT_NUMBER = re.compile(r"-?\d+\.\d+")
FIRST_YEAR, LAST_YEAR = 1900, 2199

TRUE_WORDS = frozenset({"ja", "j", "1", "x", "true", "wahr"})
FALSE_WORDS = frozenset({"nein", "n", "0", "", "false", "falsch"})


def parse_date(text: str) -> dt.date:
    """`31.12.2024`, `1.2.2024` or `2024-12-31`; years from 1900 to 2199."""
    if match := _GERMAN_DATE.fullmatch(text):
        day, month, year = (int(g) for g in match.groups())
    elif match := _ISO_DATE.fullmatch(text):
        year, month, day = (int(g) for g in match.groups())
    else:
        raise FieldError(f"'{text}' is not a date (TT.MM.JJJJ or JJJJ-MM-TT)")
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise FieldError(f"'{text}': the year must be between {FIRST_YEAR} and {LAST_YEAR}")
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise FieldError(f"'{text}' is not a valid date") from None


def parse_decimal(text: str, places: int) -> Decimal:
    """`1234,5`, `1.234,50` or `-35,00`, with at most `places` decimal places."""
    if not _GERMAN_NUMBER.fullmatch(text):
        if _POINT_NUMBER.fullmatch(text):
            raise FieldError(f"'{text}': use a decimal comma ({text.replace('.', ',')})")
        raise FieldError(f"'{text}' is not a number (e.g. 1234,56)")
    value = Decimal(text.replace(".", "").replace(",", "."))
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        raise FieldError(f"'{text}' has more than {places} decimal places")
    return value


def parse_flag(text: str) -> bool:
    """ja/nein, j/n, 1/0, x/empty, true/false, wahr/falsch (any case)."""
    word = text.lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise FieldError(f"'{text}' is neither ja nor nein")


def parse_choice(text: str, words: dict[str, E]) -> E:
    """One of a few words (any case), each naming a value."""
    try:
        return words[text.lower()]
    except KeyError:
        raise FieldError(f"'{text}' is not one of: {', '.join(words)}") from None


def format_date(value: dt.date) -> str:
    return value.strftime("%d.%m.%Y")


def format_datetime(value: dt.datetime) -> str:
    return value.strftime("%d.%m.%Y %H:%M:%S")


def format_decimal(value: Decimal, *, places: int) -> str:
    """Decimal comma, no thousands separator: `1001,250`."""
    return f"{value:.{places}f}".replace(".", ",")


def table_writer(stream: TextIO, columns: Sequence[str]) -> Any:
    """A csv writer, `;`-separated with CRLF line ends (RFC 4180), the header written."""
    writer = csv.writer(stream, delimiter=SEPARATOR, lineterminator="\r\n")
    writer.writerow(columns)
    return writer
