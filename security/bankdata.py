"""Encryption of bank data at rest (the full IBAN), with keys from the settings.

The portal must read an IBAN back once (to export it to billing), so it is
encrypted, not hashed: Fernet (AES-128-CBC with HMAC-SHA256, a time stamp in
each token). `MultiFernet` over BANK_DATA_KEYS encrypts with the first key and
decrypts with any, so rotation is: put a new key first, re-encrypt every row
(`kundenportal reencrypt-bank-data`), then remove the old key.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from settings import Settings

__all__ = ["BankDataCipher", "InvalidToken", "cipher_for"]


def _development_key(secret_key: str) -> bytes:
    """A Fernet key derived from SECRET_KEY, so development needs no extra setting."""
    digest = hashlib.sha256(b"kundenportal bank data:" + secret_key.encode()).digest()
    return base64.urlsafe_b64encode(digest)


class BankDataCipher:
    """Encrypts and decrypts one field's text; never logs or keeps the plain text."""

    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise ValueError("at least one key is needed")
        self._fernet = MultiFernet([Fernet(key) for key in keys])

    def encrypt(self, text: str) -> str:
        return self._fernet.encrypt(text.encode()).decode()

    def decrypt(self, token: str) -> str:
        """Raises InvalidToken when no configured key opens it (key dropped too early)."""
        return self._fernet.decrypt(token.encode()).decode()

    def rotate(self, token: str) -> str:
        """The same text encrypted with the first (newest) key."""
        return self._fernet.rotate(token.encode()).decode()


def cipher_for(settings: Settings) -> BankDataCipher:
    keys = [key.encode() for key in settings.bank_data_keys]
    return BankDataCipher(keys or [_development_key(settings.secret_key)])


async def reencrypt_bank_data(cipher: BankDataCipher) -> int:
    """Rotation's second step: every stored IBAN encrypted anew with the first key.

    Each row is rewritten only if its text is unchanged since it was read, so a
    change saved meanwhile is never overwritten with an old IBAN.
    """
    from models import BankAccount, BankDetailsChange

    count = 0
    for model in (BankAccount, BankDetailsChange):
        rows = await model.filter(iban_encrypted__isnull=False).values_list("id", "iban_encrypted")
        for row_id, token in rows:
            count += await model.filter(id=row_id, iban_encrypted=token).update(
                iban_encrypted=cipher.rotate(token)
            )
    return count
