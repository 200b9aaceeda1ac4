"""The GraphQL operations the load benchmark sends, as a portal front end would."""

from __future__ import annotations

import hashlib

# What the portal shows after login: every customer number with its meters (reading
# window, last reading) and its latest invoices. `benchmarks.server.dashboard_json`
# builds the same answer without GraphQL.
DASHBOARD = """query Dashboard {
  me { email customerNumbers }
  customers {
    id
    number
    isActive
    baseData { name city }
    invoices(first: 3) { totalCount edges { node { id number date kind amountCents } } }
    meters {
      id
      number
      isMain
      kind
      readingWindow { state startsOn endsOn acceptsReadings }
      lastReading { id value readOn source }
    }
  }
}"""

SUBMIT_READING = """mutation SubmitReading($input: SubmitReadingInput!) {
  submitReading(input: $input) {
    errors { code field message }
    reading { id value readOn source }
    correctedReading { id }
    mailedTo
  }
}"""

LOGIN = """mutation Login($input: LoginInput!) {
  login(input: $input) { errors { code message } token }
}"""

REGISTER = """mutation Register($input: RegisterInput!) {
  register(input: $input) { errors { code field message } mailedTo }
}"""

CONFIRM_PIN = """mutation ConfirmPin($input: ConfirmPinInput!) {
  confirmPin(input: $input) { errors { code message } confirmed }
}"""


def sha256(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


# The budget billing page: the plan, its next due dates, the projection at the current
# installment and a pending change request.
BUDGET_VIEW = """query Budget {
  customer {
    number
    budgetPlan {
      amountCents
      rhythm
      calculatedAmountCents
      minimumCents
      maximumCents
      nextDueDates { dueOn amountCents }
      changeEffectiveOn
      projection { expectedCostCents paidCents balanceCents }
      pendingRequest { id amountCents status effectiveOn }
    }
  }
}"""

REQUEST_BUDGET_CHANGE = """mutation RequestBudgetChange($input: RequestBudgetChangeInput!) {
  requestBudgetChange(input: $input) {
    errors { code field message }
    request { id amountCents status effectiveOn }
    mailedTo
  }
}"""

# The bank details page: how the customer pays, a change cooling off, and the SEPA
# mandate to accept before changing to direct debit.
PAYMENT_VIEW = """query Payment {
  customer {
    number
    paymentDetails {
      method iban accountHolder bankName bic mandateReference mandateSignedOn
      pendingChange { method iban status createdAt exportableAt }
    }
  }
  sepaMandate { version text }
}"""

CHANGE_PAYMENT_DETAILS = """mutation ChangePaymentDetails($input: ChangePaymentDetailsInput!) {
  changePaymentDetails(input: $input) {
    errors { code field message }
    change { method iban status exportableAt }
    mailedTo
  }
}"""

# The download link of the newest invoice's PDF (the PDF mix fetches these first).
INVOICE_PDF_LINK = """query InvoicePdf {
  customer { invoices(first: 1) { edges { node { number document { url size } } } } }
}"""
