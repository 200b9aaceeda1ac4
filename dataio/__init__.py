"""Data exchange with the billing system: CSV import of master data, export of readings.

`csvformat` knows the German CSV conventions, `importer` checks a whole file and
upserts it in one transaction, `exporter` writes customer readings for billing.
"""
