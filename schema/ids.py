"""Opaque IDs: base64 of "Type:primary key", so that clients never build or parse them.

An ID names its type: a meter's ID given where an invoice's is expected is not
found, rather than silently reading invoice number so-and-so. Opaque is not
secret: whoever may see an object is checked by loading it through the login.
"""

from __future__ import annotations

import base64
import binascii
from typing import ClassVar

import strawberry

from resolvers.customer_context import ACTIVE, CustomerChoice


def encode_id(type_name: str, pk: int) -> strawberry.ID:
    raw = f"{type_name}:{pk}".encode()
    return strawberry.ID(base64.urlsafe_b64encode(raw).decode().rstrip("="))


def unbase64(value: str | None, longest: int) -> str | None:
    """The text inside unpadded URL-safe base64 of at most `longest` characters, or None."""
    if not value or len(value) > longest:
        return None
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def decode_any_id(value: str | None) -> tuple[str, int] | None:
    """The type name and primary key inside `value`, or None if it is no ID of ours."""
    raw = unbase64(value, 100)
    if raw is None:
        return None
    prefix, _, pk = raw.partition(":")
    if not prefix or not pk.isascii() or not pk.isdigit() or len(pk) > 18:
        return None
    return prefix, int(pk)


def decode_id(value: str | None, type_name: str) -> int | None:
    """The primary key inside `value` if it is an ID of `type_name`, else None."""
    decoded = decode_any_id(value)
    if decoded is None or decoded[0] != type_name:
        return None
    return decoded[1]


@strawberry.interface(
    description="An object with an ID that `node(id:)` and `nodes(ids:)` find again (Relay's "
    "Global Object Identification)."
)
class Node:
    id: strawberry.ID = strawberry.field(
        description="Opaque ID, unique across all types; do not build or parse it."
    )


class _ChildRef:
    """What the references share: the primary key inside `id` (-1 for an ID of another
    type, so nothing matches; an empty string is no ID of ours either), or the number as
    given (an empty one names nothing; it never means "the default")."""

    type_name: ClassVar[str]
    id: strawberry.ID | None
    number: str | None

    def pk(self) -> int | None:
        if not isinstance(self.id, str):
            return None
        found = decode_id(self.id, self.type_name)
        return -1 if found is None else found

    def given_number(self) -> str | None:
        return self.number if isinstance(self.number, str) else None


@strawberry.input(
    one_of=True,
    description="Which customer number an operation is for: exactly one of `id` or `number`. "
    "Left out, the session's active customer number (R10, `switchCustomer`) is meant; a "
    "client that shows one customer in several tabs names it, so that another tab's switch "
    "never changes what this one acts on.",
)
class CustomerRef(_ChildRef):
    type_name: ClassVar[str] = "Customer"
    id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="The customer's ID (`Customer.id`)."
    )
    number: str | None = strawberry.field(
        default=strawberry.UNSET, description="The customer number (Kundennummer)."
    )


def customer_field() -> CustomerRef | None:
    """The optional `customer` of every mutation input that acts on a customer."""
    return strawberry.field(
        default=None,
        description="The customer this is for; left out, the session's active one (R10). "
        "Not one of the login's: NOT_FOUND, nothing changes.",
    )


def customer_choice(ref: CustomerRef | None) -> CustomerChoice:
    """The services' form of a `customer` the client sent (or left out)."""
    if not ref:
        return ACTIVE
    return CustomerChoice(ref.pk(), ref.given_number())


@strawberry.input(
    one_of=True,
    description="Which of the customer's meters: exactly one of `id` or `number`.",
)
class MeterRef(_ChildRef):
    type_name: ClassVar[str] = "Meter"
    id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="The meter's ID (`Meter.id`)."
    )
    number: str | None = strawberry.field(
        default=strawberry.UNSET, description="The meter number (Zählernummer)."
    )


@strawberry.input(
    one_of=True,
    description="Which of the customer's invoices: exactly one of `id` or `number`.",
)
class InvoiceRef(_ChildRef):
    type_name: ClassVar[str] = "Invoice"
    id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="The invoice's ID (`Invoice.id`)."
    )
    number: str | None = strawberry.field(
        default=strawberry.UNSET, description="The invoice number (Rechnungsnummer)."
    )
