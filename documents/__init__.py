"""Documents the billing system delivers (invoice PDFs): where they are kept and what they are."""
