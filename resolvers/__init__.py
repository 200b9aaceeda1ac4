"""Operations, one module per area: validate, authorize, work in one transaction, mail."""
