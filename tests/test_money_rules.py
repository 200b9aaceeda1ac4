"""The money rules as pure functions: amounts, due dates, projection, IBANs, encryption, links."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from cryptography.fernet import Fernet

from documents.pdf import checksum_problem, pdf_problem
from models.errors import Problem
from models.money import Rhythm
from models.money_codes import MoneyErrorCode as C
from models.money_rules import (
    CheckedIban,
    check_holder,
    check_iban,
    check_installment,
    due_dates,
    effective_due_date,
    mask_iban,
    parse_euros,
    project_balance,
)
from security.bankdata import BankDataCipher, InvalidToken
from security.signed_links import DocumentGrant, open_document_link, sign_document_link


@pytest.mark.parametrize(("text", "cents"), [("85", 8500), ("85,00", 8500), (" 120 ", 12000)])
def test_installment_in_whole_euros_is_read(text, cents):
    assert parse_euros(text) == cents


@pytest.mark.parametrize("text", ["85a", "abc", "-5", "1.200", "", "8 5", "1e3"])
def test_letters_in_an_amount_are_not_an_amount(text):
    assert parse_euros(text) == Problem(C.NOT_AN_AMOUNT)


@pytest.mark.parametrize("text", ["85,50", "85.5", "0,01"])
def test_amount_with_cents_is_refused(text):
    assert parse_euros(text) == Problem(C.AMOUNT_NOT_WHOLE_EUROS)


def test_amount_outside_the_range_names_the_bounds():
    problem = check_installment(2000, minimum=3000, maximum=120000, current=5000)
    assert problem == Problem(
        C.AMOUNT_OUT_OF_RANGE, None, {"minimumCents": 3000, "maximumCents": 120000}
    )
    assert check_installment(120100, minimum=3000, maximum=120000, current=5000) is not None
    assert check_installment(120000, minimum=3000, maximum=120000, current=5000) is None


def test_the_current_amount_is_no_change():
    problem = check_installment(5000, minimum=3000, maximum=9000, current=5000)
    assert problem == Problem(C.NOTHING_CHANGED)


def test_due_dates_follow_the_rhythm_and_keep_month_ends():
    assert len(due_dates(dt.date(2027, 1, 15), Rhythm.MONTHLY)) == 12
    assert due_dates(dt.date(2027, 1, 31), Rhythm.MONTHLY)[1] == dt.date(2027, 2, 28)
    assert due_dates(dt.date(2027, 1, 15), Rhythm.QUARTERLY) == [
        dt.date(2027, 1, 15),
        dt.date(2027, 4, 15),
        dt.date(2027, 7, 15),
        dt.date(2027, 10, 15),
    ]
    assert due_dates(dt.date(2027, 11, 1), Rhythm.BIMONTHLY)[1] == dt.date(2028, 1, 1)


def test_change_applies_from_the_first_due_date_far_enough_away():
    dates = due_dates(dt.date(2027, 1, 15), Rhythm.MONTHLY)
    assert effective_due_date(dates, dt.date(2027, 3, 5), 10) == dt.date(2027, 3, 15)
    assert effective_due_date(dates, dt.date(2027, 3, 6), 10) == dt.date(2027, 4, 15)
    assert effective_due_date(dates, dt.date(2027, 12, 10), 10) is None


def test_projection_compares_a_year_of_installments_with_last_years_cost():
    projection = project_balance(5000, Rhythm.MONTHLY, Decimal("120"), Decimal("4.5"))
    assert projection.expected_cost_cents == 54000
    assert projection.paid_cents == 60000
    assert projection.balance_cents == 6000


def test_iban_is_checked_by_its_checksum():
    assert check_iban("DE89370400440532013001") == Problem(C.IBAN_CHECKSUM)


@pytest.mark.parametrize("text", ["DE8937040044053201300", "XX89370400440532013000", "hallo"])
def test_iban_of_wrong_length_or_country_is_invalid(text):
    assert check_iban(text) == Problem(C.IBAN_INVALID)


def test_iban_outside_sepa_is_refused():
    assert check_iban("TR330006100519786457841326") == Problem(C.IBAN_NOT_SEPA)


def test_sepa_iban_comes_back_with_bank_and_bic_and_masked():
    checked = check_iban("de89 3704 0044 0532 0130 00")
    assert checked == CheckedIban(
        compact="DE89370400440532013000",
        masked="DE89 **** **** **** **30 00",
        bic="COBADEFFXXX",
        bank_name="Commerzbank",
    )


def test_masked_iban_shows_country_check_digits_and_last_four_only():
    assert mask_iban("AT611904300234573201") == "AT61 **** **** **** 3201"


def test_account_holder_is_required_and_bounded():
    assert check_holder("  ") == Problem(C.REQUIRED)
    assert check_holder("x" * 71) == Problem(C.TOO_LONG, None, {"maximum": 70})
    assert check_holder("Erika Mustermann") is None


def test_bank_data_rotation_keeps_old_tokens_readable_and_rewrites_them():
    old, new = Fernet.generate_key(), Fernet.generate_key()
    token = BankDataCipher([old]).encrypt("DE89370400440532013000")
    rotated_cipher = BankDataCipher([new, old])
    assert rotated_cipher.decrypt(token) == "DE89370400440532013000"
    rotated = rotated_cipher.rotate(token)
    assert BankDataCipher([new]).decrypt(rotated) == "DE89370400440532013000"
    with pytest.raises(InvalidToken):
        BankDataCipher([new]).decrypt(token)
    assert "DE89" not in token


def test_document_link_opens_only_signed_and_unexpired():
    grant = DocumentGrant(invoice_id=7, login_id=3, expires=1_000)
    token = sign_document_link(grant, "k" * 40)
    assert open_document_link(token, "k" * 40, now=999) == grant
    assert open_document_link(token, "k" * 40, now=1_000) is None
    assert open_document_link(token, "other-key" * 5, now=999) is None
    tampered = token.replace("7.3.", "8.3.", 1)
    assert open_document_link(tampered, "k" * 40, now=999) is None
    assert open_document_link("garbage", "k" * 40, now=0) is None


def test_pdf_check_wants_header_end_and_bounded_size():
    good = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
    assert pdf_problem(good, max_bytes=1000) is None
    assert "not a PDF" in (pdf_problem(b"GIF89a....%%EOF", max_bytes=1000) or "")
    assert "incomplete" in (pdf_problem(b"%PDF-1.4 truncated", max_bytes=1000) or "")
    assert "more than the 10 allowed" in (pdf_problem(good, max_bytes=10) or "")
    assert pdf_problem(b"", max_bytes=10) == "the file is empty"


def test_checksum_must_match_the_index():
    import hashlib

    data = b"%PDF-1.4 %%EOF"
    assert checksum_problem(data, hashlib.sha256(data).hexdigest().upper()) is None
    assert "SHA-256" in (checksum_problem(data, "0" * 64) or "")


@pytest.mark.parametrize("locale", ["de", "en"])
@pytest.mark.parametrize("accepted", [True, False])
def test_every_money_mail_renders_in_german_and_english(locale, accepted):
    from mailers.render import render
    from settings import Settings

    data = {
        "name": "Erika",
        "customer_number": "100001",
        "amount": "60",
        "previous": "45",
        "effective_on": "15.04.2025",
        "accepted": accepted,
        "reason": "Zu niedrig",
        "direct_debit": accepted,
        "iban_masked": "DE89 **** **** **** **30 00",
        "mandate_reference": "KP-1",
        "when": "heute",
        "client": "pytest",
        "exportable_when": "morgen",
        "stop_link": "https://p.example/stop?token=x",
        "forgot_link": "https://p.example/forgot",
        "invoice_number": "R-1",
        "due_on": "",
        "link": "https://p.example/rechnungen",
    }
    for kind in (
        "budget_request_received",
        "budget_request_decided",
        "bank_details_changed",
        "bank_change_stopped",
        "bank_details_decided",
        "invoice_available",
    ):
        mail = render(kind, locale, data, Settings(env="test"))
        assert mail.subject
        assert "100001" in mail.text
        assert "100001" in mail.html
