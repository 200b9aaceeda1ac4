"""Operations: structured logs with request ids, security headers, metrics, TLS."""
