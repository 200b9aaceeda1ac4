"""Money through the API as a client uses it: the budget plan and change requests, bank
details with the SEPA mandate, re-authentication, the security notice and its stop link,
the cooling-off before export, and invoice PDFs behind signed links."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import random
import re
from urllib.parse import urlsplit

import pytest

from dataio.invoice_documents import import_invoice_documents
from dataio.money_exports import claim_due_bank_changes, write_bank_changes
from documents.sample import invoice_pdf
from documents.store import open_store
from models import (
    AuditEvent,
    BankAccount,
    BankChangeStatus,
    BankDetailsChange,
    BudgetChangeRequest,
    BudgetPlan,
    OutboxMail,
    PaymentMethod,
    RequestStatus,
    Session,
)
from security.bankdata import cipher_for
from tests.conftest import gql, link_from
from tests.factories import (
    NOW,
    PASSWORD,
    logged_in,
    make_budget_plan,
    make_customer,
    make_direct_debit,
    make_invoice,
)
from tests.test_customers_dataloaders import count_sql  # noqa: F401  (a fixture)

PLAN = """
query Plan($amount: Int) {
  customer {
    budgetPlan {
      amountCents rhythm calculatedAmountCents minimumCents maximumCents changeEffectiveOn
      nextDueDates { dueOn amountCents }
      projection(amountEuros: $amount) { expectedCostCents paidCents balanceCents }
      pendingRequest { id amountCents effectiveOn status }
      requests(first: 5) { edges { node { amountCents status } } totalCount }
    }
  }
}
"""
REQUEST_CHANGE = """
mutation Request($input: RequestBudgetChangeInput!) {
  requestBudgetChange(input: $input) {
    request { id amountCents previousAmountCents effectiveOn status }
    mailedTo
    errors { code field message ... on MoneyError { minimumEuros maximumEuros } }
  }
}
"""
CANCEL_CHANGE = """
mutation Cancel($input: CancelBudgetChangeInput!) {
  cancelBudgetChange(input: $input) {
    request { id status }
    errors { code field message }
  }
}
"""
PAYMENT = """
query {
  customer {
    paymentDetails {
      method iban accountHolder bankName bic mandateReference mandateSignedOn
      pendingChange { method iban accountHolder bankName bic status exportableAt }
    }
  }
}
"""
MANDATE = "query { sepaMandate { text version creditorId } }"
IBAN_DETAILS = """
query Iban($iban: String!) {
  ibanDetails(iban: $iban) { iban bankName bic errors { code field message } }
}
"""
CHANGE_PAYMENT = """
mutation Change($input: ChangePaymentDetailsInput!) {
  changePaymentDetails(input: $input) {
    change { method iban accountHolder bankName bic mandateReference status exportableAt }
    mailedTo
    errors { code field message }
  }
}
"""
STOP = """
mutation Stop($input: StopPaymentDetailsChangeInput!) {
  stopPaymentDetailsChange(input: $input) { stopped errors { code field message } }
}
"""
DOCUMENT = """
query Doc($number: String!) {
  customer { invoice(ref: {number: $number}) { number document { url expiresAt size fileName } } }
}
"""
GOOD_IBAN = "DE89 3704 0044 0532 0130 00"


async def _plan_customer(settings, **login_fields):
    customer = await make_customer("100001", name="Erika Mustermann")
    await make_budget_plan(customer)
    login, token = await logged_in(settings, customer, email="erika@example.org", **login_fields)
    return customer, login, token


# -------------------------------------------------------------------- budget billing


async def test_plan_shows_next_due_dates_and_a_projection(clock, client, settings):
    # given a monthly plan from 15 January; today is 10 March
    await _plan_customer(settings)

    # when the plan is read, with a projection for 50 euros
    result = await gql(client, PLAN, {"amount": 50}, token=(await logged_in_again(settings))[1])

    # then
    plan = result.data["customer"]["budgetPlan"]
    assert plan["amountCents"] == 4500
    assert plan["rhythm"] == "MONTHLY"
    assert plan["nextDueDates"][0] == {"dueOn": "2025-03-15", "amountCents": 4500}
    assert len(plan["nextDueDates"]) == 10
    assert plan["changeEffectiveOn"] == "2025-04-15"  # 15 March is fewer than 10 days away
    assert plan["projection"] == {
        "expectedCostCents": 49500,
        "paidCents": 60000,
        "balanceCents": 10500,
    }
    assert plan["pendingRequest"] is None


async def test_budget_change_request_is_confirmed_by_mail_and_shown_pending(
    clock, client, settings, mailbox
):
    # given
    _, _, token = await _plan_customer(settings)

    # when
    result = await gql(client, REQUEST_CHANGE, {"input": {"amount": "60"}}, token=token)

    # then
    payload = result.data["requestBudgetChange"]
    assert payload["errors"] == []
    assert payload["request"]["amountCents"] == 6000
    assert payload["request"]["previousAmountCents"] == 4500
    assert payload["request"]["effectiveOn"] == "2025-04-15"
    assert payload["request"]["status"] == "PENDING"
    assert payload["mailedTo"] == "e***a@example.org"
    text = await mailbox.last_text("erika@example.org")
    assert "60 €" in text
    assert "45 €" in text
    assert "15.04.2025" in text
    plan = (await gql(client, PLAN, token=token)).data["customer"]["budgetPlan"]
    assert plan["pendingRequest"]["amountCents"] == 6000
    assert plan["requests"] == {
        "edges": [{"node": {"amountCents": 6000, "status": "PENDING"}}],
        "totalCount": 1,
    }
    assert await AuditEvent.filter(action="budget.request").count() == 1


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        ("6O", "NOT_AN_AMOUNT"),
        ("sechzig", "NOT_AN_AMOUNT"),
        ("60,50", "AMOUNT_NOT_WHOLE_EUROS"),
        ("45", "NOTHING_CHANGED"),
    ],
)
async def test_bad_amount_is_refused_with_its_code_and_nothing_is_requested(
    clock, client, settings, amount, code
):
    _, _, token = await _plan_customer(settings)

    result = await gql(client, REQUEST_CHANGE, {"input": {"amount": amount}}, token=token)

    errors = result.data["requestBudgetChange"]["errors"]
    assert [(e["code"], e["field"]) for e in errors] == [(code, ["input", "amount"])]
    assert await BudgetChangeRequest.all().count() == 0


async def test_amount_outside_the_range_is_refused_with_the_bounds_in_german_and_english(
    clock, client, settings
):
    _, _, token = await _plan_customer(settings)

    german = await gql(client, REQUEST_CHANGE, {"input": {"amount": "19"}}, token=token)
    english = await gql(
        client,
        REQUEST_CHANGE,
        {"input": {"amount": "1201"}},
        token=token,
        headers={"Accept-Language": "en"},
    )

    error = german.data["requestBudgetChange"]["errors"][0]
    assert error["code"] == "AMOUNT_OUT_OF_RANGE"
    assert (error["minimumEuros"], error["maximumEuros"]) == (20, 1200)
    assert error["message"] == "Der Abschlag muss zwischen 20 € und 1.200 € liegen."
    assert english.data["requestBudgetChange"]["errors"][0]["message"] == (
        "The installment must be between €20 and €1.200."
    )
    assert await BudgetChangeRequest.all().count() == 0


async def test_second_request_while_one_is_pending_is_refused_until_it_is_withdrawn(
    clock, client, settings
):
    _, _, token = await _plan_customer(settings)
    first = await gql(client, REQUEST_CHANGE, {"input": {"amount": "60"}}, token=token)
    request_id = first.data["requestBudgetChange"]["request"]["id"]

    second = await gql(client, REQUEST_CHANGE, {"input": {"amount": "70"}}, token=token)
    cancelled = await gql(client, CANCEL_CHANGE, {"input": {"requestId": request_id}}, token=token)
    again = await gql(client, CANCEL_CHANGE, {"input": {"requestId": request_id}}, token=token)
    third = await gql(client, REQUEST_CHANGE, {"input": {"amount": "70"}}, token=token)

    assert [e["code"] for e in second.data["requestBudgetChange"]["errors"]] == ["REQUEST_PENDING"]
    assert cancelled.data["cancelBudgetChange"]["request"]["status"] == "CANCELLED"
    assert [e["code"] for e in again.data["cancelBudgetChange"]["errors"]] == ["NOT_PENDING"]
    assert third.data["requestBudgetChange"]["errors"] == []
    assert await BudgetChangeRequest.filter(status=RequestStatus.PENDING).count() == 1


async def test_another_customers_request_cannot_be_withdrawn(clock, client, settings):
    _, _, token = await _plan_customer(settings)
    other = await make_customer("100002")
    foreign = await BudgetChangeRequest.create(
        customer=other,
        amount_cents=5000,
        previous_cents=4000,
        effective_on=dt.date(2025, 4, 15),
        created_at=NOW,
    )
    from schema.ids import encode_id

    result = await gql(
        client,
        CANCEL_CHANGE,
        {"input": {"requestId": encode_id("BudgetChangeRequest", foreign.id)}},
        token=token,
    )

    assert [e["code"] for e in result.data["cancelBudgetChange"]["errors"]] == ["NOT_FOUND"]
    assert (await BudgetChangeRequest.get(id=foreign.id)).status == RequestStatus.PENDING


# ---------------------------------------------------------------------- bank details


def _debit(**overrides):
    return {
        "method": "DIRECT_DEBIT",
        "iban": GOOD_IBAN,
        "accountHolder": "Erika Mustermann",
        "acceptedMandateVersion": "2026-01",
        "currentPassword": PASSWORD,
        **overrides,
    }


async def test_iban_details_show_bank_and_bic_masked(clock, client, settings):
    _, _, token = await _plan_customer(settings)

    result = await gql(client, IBAN_DETAILS, {"iban": GOOD_IBAN}, token=token)
    wrong = await gql(client, IBAN_DETAILS, {"iban": "DE89370400440532013001"}, token=token)

    assert result.data["ibanDetails"] == {
        "iban": "DE89 **** **** **** **30 00",
        "bankName": "Commerzbank",
        "bic": "COBADEFFXXX",
        "errors": [],
    }
    assert [e["code"] for e in wrong.data["ibanDetails"]["errors"]] == ["IBAN_CHECKSUM"]


async def test_mandate_text_names_the_creditor_identifier_and_version(clock, client, settings):
    _, _, token = await _plan_customer(settings)

    mandate = (await gql(client, MANDATE, token=token)).data["sepaMandate"]

    assert mandate["version"] == "2026-01"
    assert mandate["creditorId"] == "DE98ZZZ09999999999"
    assert "Gläubiger-Identifikationsnummer DE98ZZZ09999999999" in mandate["text"]


async def test_bank_details_change_is_encrypted_masked_mailed_and_audited(
    clock, client, settings, mailbox
):
    # given
    customer, _, token = await _plan_customer(settings)

    # when
    result = await gql(client, CHANGE_PAYMENT, {"input": _debit()}, token=token)

    # then the answer shows the account masked, with bank and BIC
    payload = result.data["changePaymentDetails"]
    assert payload["errors"] == []
    change = payload["change"]
    assert change["iban"] == "DE89 **** **** **** **30 00"
    assert (change["bankName"], change["bic"]) == ("Commerzbank", "COBADEFFXXX")
    assert change["status"] == "COOLING_OFF"
    assert change["mandateReference"].startswith("KP-100001-")
    exportable = dt.datetime.fromisoformat(change["exportableAt"])
    assert abs(exportable - (NOW + dt.timedelta(hours=24))) < dt.timedelta(minutes=1)
    # the IBAN is stored encrypted only, with what was accepted
    row = await BankDetailsChange.get(customer=customer)
    assert "DE89370400440532013000" not in row.iban_encrypted
    assert cipher_for(settings).decrypt(row.iban_encrypted) == "DE89370400440532013000"
    assert row.mandate_version == "2026-01"
    assert row.mandate_accepted_at is not None
    # the security notice goes to the login address, with the masked IBAN only
    text = await mailbox.last_text("erika@example.org")
    assert "DE89 **** **** **** **30 00" in text
    assert "DE89370400440532013000" not in text
    assert "/stop-bank-change?token=" in text
    # audited, without the IBAN; the full IBAN is never read back through the API
    event = await AuditEvent.get(action="bank_details.change")
    assert "DE89" not in str(event.details)
    shown = (await gql(client, PAYMENT, token=token)).data["customer"]["paymentDetails"]
    assert shown["pendingChange"]["iban"] == "DE89 **** **** **** **30 00"
    assert "DE89370400440532013000" not in str(shown)


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"iban": "DE89370400440532013001"}, "IBAN_CHECKSUM", "iban"),
        ({"iban": "TR330006100519786457841326"}, "IBAN_NOT_SEPA", "iban"),
        ({"iban": "DE8937040044053201300"}, "IBAN_INVALID", "iban"),
        ({"iban": ""}, "REQUIRED", "iban"),
        ({"accountHolder": " "}, "REQUIRED", "accountHolder"),
        ({"accountHolder": "x" * 71}, "TOO_LONG", "accountHolder"),
        ({"acceptedMandateVersion": None}, "MANDATE_NOT_ACCEPTED", "acceptedMandateVersion"),
        ({"acceptedMandateVersion": "2019-01"}, "MANDATE_NOT_ACCEPTED", "acceptedMandateVersion"),
        ({"currentPassword": None}, "REAUTHENTICATION_REQUIRED", "currentPassword"),
        ({"currentPassword": "Falsch!2024"}, "REAUTHENTICATION_REQUIRED", "currentPassword"),
        ({"method": "TRANSFER"}, "NOT_ALLOWED_FOR_TRANSFER", "iban"),
    ],
)
async def test_bad_bank_details_are_refused_on_their_field_and_nothing_is_stored(
    clock, client, settings, mailbox, overrides, code, field
):
    _, _, token = await _plan_customer(settings)

    result = await gql(client, CHANGE_PAYMENT, {"input": _debit(**overrides)}, token=token)

    errors = result.data["changePaymentDetails"]["errors"]
    assert (errors[0]["code"], errors[0]["field"]) == (code, ["input", field])
    assert await BankDetailsChange.all().count() == 0
    assert await AuditEvent.filter(action="bank_details.change").count() == 0


async def test_stop_link_stops_the_change_ends_sessions_and_it_is_never_exported(
    clock, client, settings, mailbox
):
    # given a change and its notice
    customer, login, token = await _plan_customer(settings)
    await gql(client, CHANGE_PAYMENT, {"input": _debit()}, token=token)
    stop_link = link_from((await mailbox.last_text("erika@example.org")).split("Link")[-1])
    stop_token = re.search(r"token=([\w-]+)", stop_link).group(1)

    # when the owner says "this was not me" (no session needed)
    result = await gql(client, STOP, {"input": {"token": stop_token}})
    again = await gql(client, STOP, {"input": {"token": stop_token}})

    # then the change is stopped, every session ended, the owner told
    assert result.data["stopPaymentDetailsChange"] == {"stopped": True, "errors": []}
    assert [e["code"] for e in again.data["stopPaymentDetailsChange"]["errors"]] == ["LINK_INVALID"]
    assert (await BankDetailsChange.get(customer=customer)).status == BankChangeStatus.STOPPED
    assert await Session.filter(login_id=login.id).count() == 0
    assert "gestoppt" in await mailbox.last_text("erika@example.org", 2)
    # and after the cooling-off time nothing is exported
    clock.shift(dt.timedelta(hours=25))
    assert await claim_due_bank_changes(dt.datetime.now(dt.UTC)) == []


async def test_change_is_exported_only_after_the_cooling_off_time(clock, client, settings, mailbox):
    _, _, token = await _plan_customer(settings)
    await gql(client, CHANGE_PAYMENT, {"input": _debit()}, token=token)

    clock.shift(dt.timedelta(hours=23))
    early = await claim_due_bank_changes(dt.datetime.now(dt.UTC))
    clock.shift(dt.timedelta(hours=1, minutes=1))
    due = await claim_due_bank_changes(dt.datetime.now(dt.UTC))
    text = io.StringIO()
    write_bank_changes(
        text, due, cipher_for(settings), creditor_id="DE98ZZZ09999999999", timezone="Europe/Berlin"
    )

    assert early == []
    assert len(due) == 1
    assert ";DE89370400440532013000;" in text.getvalue()
    stop_token = re.search(r"token=([\w-]+)", await mailbox.last_text("erika@example.org")).group(1)
    late = await gql(client, STOP, {"input": {"token": stop_token}})
    assert [e["code"] for e in late.data["stopPaymentDetailsChange"]["errors"]] == ["LINK_INVALID"]


async def test_switch_to_transfer_needs_no_account_and_same_details_are_no_change(
    clock, client, settings, mailbox
):
    customer, _, token = await _plan_customer(settings)
    await BankAccount.create(customer=customer, method=PaymentMethod.TRANSFER)

    same = await gql(
        client,
        CHANGE_PAYMENT,
        {"input": {"method": "TRANSFER", "currentPassword": PASSWORD}},
        token=token,
    )

    assert [e["code"] for e in same.data["changePaymentDetails"]["errors"]] == ["NOTHING_CHANGED"]
    assert await BankDetailsChange.all().count() == 0


# -------------------------------------------------------------------- invoice PDFs


async def _with_pdf(settings, customer, number="R-2025-1", pdf=None):
    invoice = await make_invoice(customer, number)
    pdf = pdf or invoice_pdf(number, customer.name, "438,90", invoice.date)
    folder = settings.document_dir.parent / "incoming"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{number}.pdf").write_bytes(pdf)
    (folder / "index.csv").write_text(
        f"rechnungsnummer;datei;sha256\r\n{number};{number}.pdf;{hashlib.sha256(pdf).hexdigest()}"
    )
    report = await import_invoice_documents(folder, store=open_store(settings), settings=settings)
    assert report.ok, report.problems
    return invoice, pdf


async def _document_url(client, token, number="R-2025-1"):
    result = await gql(client, DOCUMENT, {"number": number}, token=token)
    return result.data["customer"]["invoice"]["document"]


async def test_invoice_pdf_is_downloaded_by_its_owner_through_a_signed_link(
    clock, client, settings
):
    customer, _, token = await _plan_customer(settings)
    _, pdf = await _with_pdf(settings, customer)

    document = await _document_url(client, token)
    response = await client.get(urlsplit(document["url"]).path)

    assert document["size"] == len(pdf)
    assert document["fileName"] == "Rechnung-R-2025-1.pdf"
    assert response.status_code == 200
    assert response.content == pdf
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == 'attachment; filename="Rechnung-R-2025-1.pdf"'
    assert response.headers["cache-control"] == "private, no-store"
    assert await AuditEvent.filter(action="invoice.download").count() == 1


async def test_invoice_pdf_of_the_largest_allowed_size_downloads_whole(clock, client, settings):
    customer, _, token = await _plan_customer(settings)
    head, tail = b"%PDF-1.4\n", b"\n%%EOF\n"
    size = settings.invoice_pdf_max_bytes
    big = head + random.Random(7).randbytes(size - len(head) - len(tail)) + tail
    await _with_pdf(settings, customer, pdf=big)

    document = await _document_url(client, token)
    response = await client.get(urlsplit(document["url"]).path)

    assert document["size"] == size
    assert response.status_code == 200
    assert response.headers["content-length"] == str(size)
    assert hashlib.sha256(response.content).digest() == hashlib.sha256(big).digest()


async def test_expired_tampered_foreign_or_deleted_links_reveal_nothing(clock, client, settings):
    customer, _, token = await _plan_customer(settings)
    await _with_pdf(settings, customer)
    path = urlsplit((await _document_url(client, token))["url"]).path
    other = await make_customer("100002")
    await _with_pdf(settings, other, "R-2025-2")
    _, other_token = await logged_in(settings, other)
    foreign_path = urlsplit((await _document_url(client, other_token, "R-2025-2"))["url"]).path

    tampered = path.replace(
        path.rsplit("/", 1)[1].split(".")[0], foreign_path.rsplit("/", 1)[1].split(".")[0], 1
    )
    answers = [await client.get(tampered), await client.get(path[:-3] + "abc")]
    clock.shift(dt.timedelta(seconds=settings.document_link_valid_seconds + 1))
    answers.append(await client.get(path))

    assert {(r.status_code, r.content) for r in answers} == {
        (answers[0].status_code, answers[0].content)
    }
    assert answers[0].status_code == 404
    assert b"R-2025" not in answers[0].content
    assert answers[0].json()["errors"][0]["extensions"] == {"code": "DOWNLOAD_LINK_INVALID"}
    english = await client.get(path, headers={"Accept-Language": "en"})
    assert english.json()["errors"][0]["message"].startswith("This download link is invalid")


# ------------------------------------------------------------------------ privacy

DELETE_PROFILE = """
mutation Delete($current: String) {
  deleteProfile(input: { currentPassword: $current }) { errors { code } }
}
"""
SET_ONLINE = """
mutation SetOnline($consent: Boolean!, $password: String) {
  setOnlineCustomer(input: { consent: $consent, currentPassword: $password }) { errors { code } }
}
"""


async def test_data_export_holds_money_data_with_the_iban_masked_only(clock, client, settings):
    _, _, token = await _plan_customer(settings)
    await gql(client, REQUEST_CHANGE, {"input": {"amount": "60"}}, token=token)
    await gql(client, CHANGE_PAYMENT, {"input": _debit()}, token=token)

    export = (await gql(client, "{ myDataExport }", token=token)).data["myDataExport"]

    money = export["money"]
    assert money["budgetPlans"][0]["amountCents"] == 4500
    assert money["budgetChangeRequests"][0]["amountCents"] == 6000
    assert money["paymentDetailsChanges"][0]["iban"] == "DE89 **** **** **** **30 00"
    assert "DE89370400440532013000" not in str(export)


async def test_deleting_the_profile_withdraws_the_change_and_its_links(
    clock, client, settings, mailbox
):
    # given a pending installment request, a bank change cooling off and a document link
    customer, _, token = await _plan_customer(settings)
    await _with_pdf(settings, customer)
    await gql(client, REQUEST_CHANGE, {"input": {"amount": "60"}}, token=token)
    await gql(client, CHANGE_PAYMENT, {"input": _debit()}, token=token)
    path = urlsplit((await _document_url(client, token))["url"]).path

    # when the profile is deleted
    deleted = await gql(client, DELETE_PROFILE, {"current": PASSWORD}, token=token)

    # then nothing of the change is left to export, the request is withdrawn, the link is dead
    assert deleted.data["deleteProfile"]["errors"] == []
    assert await BankDetailsChange.all().count() == 0
    clock.shift(dt.timedelta(hours=25))
    assert await claim_due_bank_changes(dt.datetime.now(dt.UTC)) == []
    request = await BudgetChangeRequest.get(customer=customer)
    assert (request.status, request.login_id) == (RequestStatus.CANCELLED, None)
    clock.shift(dt.timedelta(hours=-25))
    assert (await client.get(path)).status_code == 404


async def test_withdrawn_online_consent_stops_the_online_invoice_mail_from_the_next_invoice(
    clock, client, settings, mailbox
):
    # given an online customer
    customer, _, token = await _plan_customer(settings)
    await gql(client, SET_ONLINE, {"consent": True, "password": PASSWORD}, token=token)
    await _with_pdf(settings, customer, "R-2025-1")
    assert "R-2025-1" in await mailbox.last_text("erika@example.org", 2)

    # when the consent is withdrawn and the next invoice arrives
    await gql(client, SET_ONLINE, {"consent": False, "password": PASSWORD}, token=token)
    await _with_pdf(settings, customer, "R-2025-2")

    # then only the confirmation of the withdrawal is mailed, no invoice mail
    assert "R-2025-2" not in await mailbox.last_text("erika@example.org", 3)
    assert await OutboxMail.filter(kind="invoice_available").count() == 1


async def test_another_logins_customer_number_is_not_found_and_nothing_is_requested(
    clock, client, settings
):
    _, _, token = await _plan_customer(settings)
    await make_customer("100002")

    result = await gql(
        client,
        REQUEST_CHANGE,
        {"input": {"amount": "60", "customer": {"number": "100002"}}},
        token=token,
    )

    errors = result.data["requestBudgetChange"]["errors"]
    assert [(e["code"], e["field"]) for e in errors] == [("NOT_FOUND", ["input", "customer"])]
    assert await BudgetChangeRequest.all().count() == 0


async def test_no_due_date_far_enough_away_refuses_the_request(clock, client, settings):
    customer, _, token = await _plan_customer(settings)
    await BudgetPlan.filter(customer=customer).update(first_due_on=dt.date(2024, 4, 1))

    result = await gql(client, REQUEST_CHANGE, {"input": {"amount": "60"}}, token=token)

    assert [e["code"] for e in result.data["requestBudgetChange"]["errors"]] == ["NO_DUE_DATE"]
    assert await BudgetChangeRequest.all().count() == 0


async def test_no_iban_or_download_link_reaches_a_log_or_a_later_answer(
    clock, client, settings, mailbox, caplog
):
    import logging

    caplog.set_level(logging.DEBUG)
    customer, _, token = await _plan_customer(settings)
    await _with_pdf(settings, customer)
    changed = await gql(client, CHANGE_PAYMENT, {"input": _debit()}, token=token)
    document_path = urlsplit((await _document_url(client, token))["url"]).path
    downloaded = await client.get(document_path)
    shown = await gql(client, PAYMENT, token=token)
    exported = await gql(client, "{ myDataExport }", token=token)

    assert downloaded.status_code == 200
    server = [r for r in caplog.records if r.name != "httpx"]  # httpx: the test's client
    logged = "\n".join(r.getMessage() + str(r.__dict__) for r in server)
    link_token = document_path.rsplit("/", 1)[1]
    for secret in ("DE89370400440532013000", GOOD_IBAN, link_token):
        assert secret not in logged
    for answer in (changed, shown, exported):
        assert "DE89370400440532013000" not in answer.response.text
        assert GOOD_IBAN not in answer.response.text


MONEY_DASHBOARD = """
query {
  customers {
    number
    budgetPlan { amountCents pendingRequest { amountCents } }
    paymentDetails { method iban pendingChange { status } }
    invoices(first: 3) { edges { node { number document { size } } } }
  }
}
"""


async def test_money_on_the_dashboard_costs_the_same_statements_for_1_and_5_customers(
    clock,
    client,
    settings,
    count_sql,  # noqa: F811  (the fixture imported above)
):
    from tests.factories import make_login, session_token

    async def login_with(prefix: str, count: int) -> str:
        customers = []
        for n in range(count):
            customer = await make_customer(f"{prefix}{n:04}")
            await make_budget_plan(customer, maximum_cents=9000)
            await BankAccount.create(customer=customer, method=PaymentMethod.TRANSFER)
            await _with_pdf(settings, customer, f"R-{prefix}{n:04}")
            customers.append(customer)
        return await session_token(await make_login(*customers), settings)

    one_token, five_token = await login_with("1", 1), await login_with("2", 5)

    one, one_sql = await count_sql(gql(client, MONEY_DASHBOARD, token=one_token))
    five, five_sql = await count_sql(gql(client, MONEY_DASHBOARD, token=five_token))

    assert one.errors is None
    assert five.errors is None
    assert len(five.data["customers"]) == 5
    assert all(
        c["invoices"]["edges"][0]["node"]["document"]["size"] > 0 for c in five.data["customers"]
    )
    assert len(one_sql) == len(five_sql), "\n".join(five_sql)


async def test_two_requests_at_the_same_moment_leave_one_pending(clock, client, settings):
    import asyncio

    _, _, token = await _plan_customer(settings)

    results = await asyncio.gather(
        *(
            gql(client, REQUEST_CHANGE, {"input": {"amount": str(amount)}}, token=token)
            for amount in (60, 70)
        )
    )

    codes = sorted(e["code"] for r in results for e in r.data["requestBudgetChange"]["errors"])
    assert codes == ["REQUEST_PENDING"]
    assert await BudgetChangeRequest.filter(status=RequestStatus.PENDING).count() == 1


async def test_profile_deleted_after_export_keeps_no_iban_but_billings_result_still_imports(
    clock, client, settings, mailbox
):
    from dataio.importer import import_data

    customer, _, token = await _plan_customer(settings)
    await gql(client, CHANGE_PAYMENT, {"input": _debit()}, token=token)
    clock.shift(dt.timedelta(hours=25))
    (change,) = await claim_due_bank_changes(dt.datetime.now(dt.UTC))
    _, fresh = await logged_in_again(settings)

    await gql(client, DELETE_PROFILE, {"current": PASSWORD}, token=fresh)
    report = await import_data(
        "bank-details-results",
        f"aenderung_id;entscheidung;grund\r\n{change.id};angenommen;".encode(),
        "results.csv",
        today=dt.date(2025, 3, 11),
        settings=settings,
    )

    kept = await BankDetailsChange.get(id=change.id)
    assert (kept.login_id, kept.iban_encrypted, kept.holder) == (None, None, "")
    assert report.ok, report.problems
    assert (await BankAccount.get(customer=customer)).iban_masked == "DE89 **** **** **** **30 00"


async def logged_in_again(settings):
    from models import Login
    from tests.factories import session_token

    login = await Login.get(email="erika@example.org")
    return login, await session_token(login, settings)


async def test_switch_from_debit_to_transfer_needs_no_mandate_and_is_noticed(
    clock, client, settings, mailbox
):
    customer, _, token = await _plan_customer(settings)
    await make_direct_debit(customer, settings)

    result = await gql(
        client,
        CHANGE_PAYMENT,
        {"input": {"method": "TRANSFER", "currentPassword": PASSWORD}},
        token=token,
    )

    payload = result.data["changePaymentDetails"]
    assert payload["errors"] == []
    assert (payload["change"]["method"], payload["change"]["iban"]) == ("TRANSFER", None)
    assert "Überweisung" in await mailbox.last_text("erika@example.org")
    shown = (await gql(client, PAYMENT, token=token)).data["customer"]["paymentDetails"]
    assert shown["method"] == "DIRECT_DEBIT"  # until billing has decided
    assert shown["pendingChange"]["method"] == "TRANSFER"


async def test_guessed_stop_links_and_download_links_are_limited_per_address(
    clock, client, settings
):
    settings.link_failures_per_address = 2

    for _ in range(2):
        result = await gql(client, STOP, {"input": {"token": "x" * 43}})
        assert [e["code"] for e in result.data["stopPaymentDetailsChange"]["errors"]] == [
            "LINK_INVALID"
        ]
    limited = await gql(client, STOP, {"input": {"token": "y" * 43}})
    download = await client.get("/documents/invoices/1.1.9999999999.guessed")

    assert limited.errors[0]["extensions"]["code"] == "RATE_LIMITED"
    assert download.status_code == 429
    assert download.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert int(download.headers["retry-after"]) > 0
