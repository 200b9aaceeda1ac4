"""The money commands as staff and ops run them: a real process, its files and exit codes."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from cryptography.fernet import Fernet

from models import BankAccount, BankChangeStatus, BankDetailsChange, PaymentMethod
from security.bankdata import BankDataCipher
from tests.factories import make_customer, make_invoice

IBAN = "DE89370400440532013000"


def money_env(settings, keys: list[bytes]) -> dict[str, str]:
    """What an operator sets for the money commands: the document folder and the bank keys."""
    return {
        "DOCUMENT_DIR": str(settings.document_dir),
        "BANK_DATA_KEYS": json.dumps([k.decode() for k in keys]),
    }


async def test_key_rotation_reencrypts_every_iban_so_the_old_key_can_go(app, settings, staff):
    old, new = Fernet.generate_key(), Fernet.generate_key()
    customer = await make_customer("300001")
    await BankAccount.create(
        customer=customer,
        method=PaymentMethod.DIRECT_DEBIT,
        iban_encrypted=BankDataCipher([old]).encrypt(IBAN),
        iban_masked="DE89 **** **** **** **30 00",
    )

    run = await staff("reencrypt-bank-data", **money_env(settings, [new, old]))

    assert run.code == 0, run.stderr
    assert "1 IBAN(s) encrypted with the newest key" in run.stdout
    stored = await BankAccount.get(customer=customer)
    assert BankDataCipher([new]).decrypt(stored.iban_encrypted) == IBAN
    assert IBAN not in run.stdout + run.stderr


async def test_bank_change_export_is_a_private_file_of_due_changes_only(
    app, settings, staff, tmp_path
):
    key = Fernet.generate_key()
    customer = await make_customer("300001")
    past = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    due, later = [
        await BankDetailsChange.create(
            customer=customer,
            method=PaymentMethod.DIRECT_DEBIT,
            iban_encrypted=BankDataCipher([key]).encrypt(IBAN),
            holder="Erika Mustermann",
            mandate_accepted_at=past,
            stop_token_hash=str(n) * 64,
            created_at=past,
            exportable_at=past + dt.timedelta(hours=offset),
        )
        for n, offset in ((1, 0), (2, 48))
    ]
    output = tmp_path / "bank.csv"

    run = await staff("export-bank-changes", "-o", str(output), **money_env(settings, [key]))

    assert run.code == 0, run.stderr
    assert output.stat().st_mode & 0o777 == 0o600
    lines = output.read_text().splitlines()
    assert len(lines) == 2
    assert lines[1].startswith(f"{due.id};300001;lastschrift;{IBAN};")
    assert (await BankDetailsChange.get(id=due.id)).status == BankChangeStatus.EXPORTED
    assert (await BankDetailsChange.get(id=later.id)).status == BankChangeStatus.COOLING_OFF
    assert IBAN not in run.stdout + run.stderr


async def test_invoice_document_import_exits_1_with_file_and_line_of_each_reason(
    app, settings, staff, tmp_path
):
    customer = await make_customer("300001")
    await make_invoice(customer, "R-1")
    fake = b"GIF89a %%EOF"
    (tmp_path / "fake.pdf").write_bytes(fake)
    index = tmp_path / "index.csv"
    index.write_text(
        f"rechnungsnummer;datei;sha256\nR-1;fake.pdf;{hashlib.sha256(fake).hexdigest()}\n"
        f"R-9;fake.pdf;{hashlib.sha256(fake).hexdigest()}\n"
    )

    run = await staff("import-invoice-documents", str(tmp_path), **money_env(settings, []))

    assert run.code == 1
    assert f"{index}:2: datei fake.pdf: the file is not a PDF (no %PDF- header)" in run.stderr
    assert f"{index}:3: " in run.stderr
    assert "nothing imported" in run.stderr
