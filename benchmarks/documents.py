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

LOGIN = """mutation Login($email: String!, $password: String!) {
  login(email: $email, password: $password) { errors { code message } token }
}"""

REGISTER = """mutation Register($input: RegisterInput!) {
  register(input: $input) { errors { code field message } mailedTo }
}"""

CONFIRM_PIN = """mutation ConfirmPin($email: String!, $pin: String!) {
  confirmPin(email: $email, pin: $pin) { errors { code message } confirmed }
}"""


def sha256(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()
