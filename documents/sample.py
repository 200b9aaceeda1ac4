"""Small real invoice PDFs for the demo data and the tests, made with fpdf2."""

from __future__ import annotations

import datetime as dt

from fpdf import FPDF


def invoice_pdf(number: str, customer_name: str, amount: str, date: dt.date) -> bytes:
    """A one-page PDF that reads like an invoice; fixed metadata, so the same input gives
    the same bytes (and the same SHA-256)."""
    pdf = FPDF()
    pdf.set_creation_date(dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    pdf.set_title(f"Rechnung {number}")
    pdf.add_page()
    pdf.set_font("Helvetica", size=16)
    pdf.cell(0, 10, "Stadtwerke Musterstadt Wasser", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    for line in (
        f"Rechnung {number} vom {date:%d.%m.%Y}",
        customer_name,
        f"Betrag: {amount} EUR",
        "Demonstration, keine echte Rechnung.",
    ):
        pdf.cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
