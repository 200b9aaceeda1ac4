"""Every knob of the service: its environment variable, default and why.

Read from the environment and an optional `.env` file. Defaults make a
newcomer's machine work with nothing installed (SQLite, in-process limits, mail
into a folder); `prod` refuses to start while any of them is left in place.
"""

from __future__ import annotations

import base64
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from db import Timeouts

ROOT = Path(__file__).resolve().parent
DEV_SECRET_KEY = "dev-only-secret-key-change-me"


class ConfigurationError(RuntimeError):
    """A setting makes the service unsafe or unable to run; the message names it."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    env: Literal["dev", "test", "prod"] = Field(
        "dev", description="dev: local defaults allowed; prod: refuses development defaults."
    )
    database_url: str = Field(
        f"sqlite://{ROOT / 'var' / 'kundenportal.sqlite3'}",
        description="Tortoise URL: sqlite://PATH for development, postgres://… in production.",
    )
    redis_timeout_seconds: float = Field(
        0.5,
        description="Connecting to Redis and each command; then rate limits count in the "
        "process and persisted queries answer PersistedQueryNotFound.",
    )
    db_connect_timeout_seconds: float = Field(
        5.0, description="Opening a database connection; then SERVICE_UNAVAILABLE (503)."
    )
    db_acquire_timeout_seconds: float = Field(
        3.0, description="Waiting for a free pooled database connection; then 503."
    )
    db_statement_timeout_seconds: float = Field(
        5.0,
        description="One statement's answer in the app and the mail worker (PostgreSQL: "
        "asyncpg command_timeout, client side, so a silent network counts too; SQLite: busy "
        "timeout); then 503. Migrations, imports and staff commands have none.",
    )
    readiness_timeout_seconds: float = Field(
        2.0, description="/readyz answers 503 when the database does not answer within this."
    )
    redis_url: str | None = Field(
        None, description="When set, rate limits and the persisted-query store live in Redis."
    )
    secret_key: str = Field(DEV_SECRET_KEY, description="Keys HMACs of tokens; keep secret.")

    # People-facing names and addresses used in mails and links.
    utility_name: str = "Stadtwerke Musterstadt Wasser"
    portal_url: str = Field(
        "http://127.0.0.1:5173", description="Front end's base URL, used for links in mails."
    )
    mail_from: str = "Kundenportal <kundenportal@wasser.example>"
    support_address: str = "kundenservice@wasser.example"
    billing_department_address: str = "verbrauchsabrechnung@wasser.example"
    general_department_address: str = "kundenservice@wasser.example"

    # Mail delivery (see README "Mail").
    mail_backend: Literal["file", "smtp"] = Field(
        "file", description="smtp in production; file writes .eml files for development."
    )
    mail_dir: Path = ROOT / "var" / "mail"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = Field(False, description="Insist on STARTTLS (port 587).")
    smtp_tls: bool = Field(False, description="Implicit TLS (port 465); excludes SMTP_STARTTLS.")
    smtp_ca_file: Path | None = Field(
        None, description="CA bundle that signed the relay's certificate; system CAs when unset."
    )
    smtp_timeout_seconds: float = Field(
        10.0, description="Per SMTP command; aiosmtplib's 60 s would stall the worker."
    )
    mail_worker_in_app: bool = Field(
        True, description="Run the outbox worker inside the app; off when workers run apart."
    )
    mail_worker_subprocess: bool = Field(
        True,
        description="On PostgreSQL, run the app's worker as a child process the app starts "
        "and stops, so that the OS shares the cores between requests and mail; off: in the "
        "app's event loop (always so on SQLite, whose one file takes one writer).",
    )
    mail_poll_seconds: float = Field(
        1.0,
        description="How soon a queued mail is picked up (a mail a person waits for, "
        "such as a PIN, wakes the worker at once).",
    )
    mail_concurrency: int = Field(
        8,
        ge=1,
        le=32,
        description="Mails one worker delivers at once, each lane over its own SMTP "
        "connection, kept open while mails are due.",
    )
    mail_max_attempts: int = Field(
        12, ge=1, description="Tries before a temporarily failing mail is failed (about 5 h)."
    )
    mail_backoff_base_seconds: float = Field(
        30.0, description="Wait after the first failure; doubles with each further one."
    )
    mail_backoff_max_seconds: float = Field(
        3600.0, description="Longest wait between tries, so an outage of hours is bridged."
    )
    mail_lease_seconds: float = Field(
        120.0,
        description="A claimed mail is one worker's for this long (a delivery is cut off at "
        "half of it); a crashed worker's mail is retried after it.",
    )
    mail_drain_seconds: float = Field(
        10.0, description="At shutdown, deliver what is due for at most this long."
    )
    mail_body_retention_days: int = Field(
        7, description="Bodies of sent mails (PINs, links) are cleared after this many days."
    )

    # Accounts.
    bcrypt_rounds: int = Field(12, ge=4, le=16, description="bcrypt cost; 12 in production.")
    hash_workers: int = Field(
        2, ge=1, description="Threads for bcrypt, so hashing never blocks the event loop."
    )
    hash_queue_limit: int = Field(64, description="Pending hashes before logins get 'try again'.")
    hash_thread_nice: int = Field(
        10,
        ge=0,
        le=19,
        description="Nice value of the bcrypt threads (Linux): requests get the CPU first, "
        "so logins do not slow everyone else down on a small machine (0: same priority).",
    )
    pin_valid_minutes: int = 15
    pin_resend_minutes: int = 5
    pin_max_attempts: int = Field(
        5, description="Wrong entries of one PIN one client may make before it is void for it."
    )
    pin_attempts_per_pin: int = Field(
        15,
        description="Wrong entries of one PIN all unknown clients together may make before it "
        "is void for them (the device that registered keeps its own attempts).",
    )
    registration_expiry_hours: int = 24
    reset_link_valid_days: int = 7
    email_change_valid_hours: int = 24
    session_idle_minutes: int = 60
    session_absolute_hours: int = 24 * 14
    reauth_minutes: int = 15
    login_failures_per_client_of_login: int = Field(
        10,
        description="Wrong passwords one client (known device, else address) may give for one "
        "login per rate window: slows the guesser down, nobody else.",
    )
    login_failures_per_login: int = Field(
        30,
        description="Wrong passwords all unknown clients together may give for one login per "
        "rate window; beyond it unknown clients are refused, known devices are not.",
    )
    login_failures_per_address: int = Field(
        50, description="Wrong passwords one unknown client address may give across logins."
    )
    device_cookie_days: int = Field(
        365, description="Lifetime of the device cookie (security/devices.py)."
    )
    rate_window_seconds: int = 15 * 60
    mails_per_address_per_day: int = 10
    cookie_secure: bool = True

    # Accounts: links in mails point to these pages of the front end (PORTAL_URL + path).
    reset_password_path: str = Field(
        "/reset-password", description="Page that sets a new password from `?token=`."
    )
    forgot_password_path: str = Field(
        "/forgot-password", description="Page that asks for a reset link: 'this was not me'."
    )
    confirm_email_path: str = Field(
        "/confirm-email", description="Page that confirms a new login e-mail from `?token=`."
    )
    undo_email_change_path: str = Field(
        "/undo-email-change", description="Page that restores the old login e-mail."
    )
    email_undo_valid_days: int = Field(
        7, description="How long the old address can undo an e-mail change."
    )
    mail_timezone: str = Field(
        "Europe/Berlin", description="Times in mails are shown in the customers' time zone."
    )

    # Rate limits (security/ratelimit.py lists them all; in Redis when REDIS_URL is set).
    rate_limit_prefix: str = Field("kp:rl", description="Prefix of rate-limit keys in Redis.")
    link_resend_minutes: int = Field(
        5, description="Cooldown between two reset or e-mail-change mails, like the PIN's."
    )
    register_attempts_per_address: int = Field(
        20, description="Registrations per client address per hour: proofs are guessable."
    )
    proof_failures_per_customer: int = Field(
        10,
        description="Wrong invoice/meter numbers one client address may give for one customer "
        "number per day at registration: slows the guesser down, nobody else.",
    )
    proof_failures_per_customer_all_clients: int = Field(
        30,
        description="Wrong invoice/meter numbers all clients together may give for one customer "
        "number per day at registration (a distributed guesser); then registering that number "
        "waits for the day to pass.",
    )
    pin_attempts_per_address: int = Field(
        30, description="PIN entries per client address per rate window, across logins."
    )
    link_failures_per_address: int = Field(
        20, description="Unknown link tokens per client address per rate window."
    )
    contact_messages_per_address: int = Field(
        5, description="Contact-form messages per client address per hour."
    )
    mails_per_client_per_day: int = Field(
        20, description="Mails of one kind one client address may cause per day (mail floods)."
    )
    contact_text_max_chars: int = 5000
    trusted_proxies: list[str] = Field(default_factory=list)
    cors_origins: list[str] = Field(default_factory=list)

    # Second factor: passkeys (WebAuthn) and authenticator apps (TOTP); README "Second factor".
    webauthn_rp_id: str = Field(
        "localhost",
        description="WebAuthn relying party ID: the registrable domain the passkeys belong to "
        "(e.g. wasser.example); a passkey works only on that domain and its subdomains.",
    )
    webauthn_rp_name: str = Field(
        "Kundenportal", description="Name the browser shows when it creates a passkey."
    )
    webauthn_origins: list[str] = Field(
        default_factory=lambda: ["http://localhost:5173"],
        description="Origins (scheme://host[:port]) of the pages allowed to use passkeys; "
        "each must be the RP ID or a subdomain of it.",
    )
    webauthn_challenge_minutes: int = Field(
        5, ge=1, le=30, description="How long a passkey ceremony's challenge stays valid."
    )
    passkeys_per_login: int = Field(10, ge=1, description="Most passkeys one login may hold.")
    totp_issuer: str = Field(
        "Stadtwerke Musterstadt Wasser",
        description="Issuer shown by authenticator apps next to the login's address.",
    )
    totp_enrolment_minutes: int = Field(
        15, ge=1, description="How long a started authenticator-app enrolment waits for its code."
    )
    second_factor_login_minutes: int = Field(
        5,
        ge=1,
        le=30,
        description="How long the token of a password login that still owes its second "
        "factor is valid.",
    )
    second_factor_attempts: int = Field(
        5, ge=1, description="Wrong codes one such token takes before it is void."
    )
    step_up_minutes: int = Field(
        10,
        ge=1,
        description="Sensitive changes (bank details, e-mail, password, the second factor, "
        "deleting the profile) need a second factor given at most this long ago.",
    )
    remember_device_days: int = Field(
        30,
        ge=0,
        description="A device on which the second factor was given and 'remember this "
        "device' chosen may skip it at login for this long (0: never remembered).",
    )
    second_factor_failures_per_client_of_login: int = Field(
        5,
        description="Wrong codes, recovery codes or passkey answers one client (known device, "
        "else address) may give for one login per rate window: slows the guesser, nobody else.",
    )
    second_factor_failures_per_login: int = Field(
        20,
        description="Wrong second factors of all unknown clients together for one login per "
        "rate window; beyond it unknown clients are refused, known devices are not.",
    )
    passkey_logins_per_address: int = Field(
        30,
        description="Passkey login attempts (options asked for) per client address per "
        "rate window.",
    )

    # Customer data.
    base_data_change_valid_minutes: int = 30
    consent_wording_version: str = "2024-01"
    reading_confirm_factor: float = Field(
        3.0, description="A reading above this many times the expected use needs confirmation."
    )
    reading_confirm_floor_m3: float = Field(
        5.0,
        description="Use up to this many m³ since the last reading never needs confirmation: "
        "short gaps make the expected use tiny.",
    )
    utility_timezone: str = Field(
        "Europe/Berlin",
        description="Reading periods are calendar days at the utility: today is taken here "
        "(also for the import's readings and the export's --since).",
    )
    customer_claim_failures_per_login: int = Field(
        20,
        description="Failed addCustomerNumber attempts per login from unknown clients within "
        "rate_window_seconds before they are refused: numbers must not be guessable.",
    )
    customer_claim_failures_per_client_of_login: int = Field(
        10, description="Failed addCustomerNumber attempts of one client for one login."
    )
    customer_claim_failures_per_address: int = Field(
        30, description="Failed addCustomerNumber attempts per unknown client address."
    )

    # Money: budget billing, bank details, invoice PDFs (README "Money").
    budget_change_lead_days: int = Field(
        10,
        ge=0,
        description="A new installment applies from the first due date at least this many "
        "days away, so the billing system can still act on it.",
    )
    bank_change_cooling_off_hours: int = Field(
        24,
        ge=0,
        description="A bank details change is exported to billing only after this long "
        "without the login's 'this was not me'.",
    )
    stop_bank_change_path: str = Field(
        "/stop-bank-change", description="Page that stops a bank details change from `?token=`."
    )
    sepa_creditor_id: str = Field(
        "DE98ZZZ09999999999",
        description="The utility's Gläubiger-Identifikationsnummer named in the SEPA mandate "
        "(the default is the Bundesbank's test number).",
    )
    sepa_mandate_version: str = Field(
        "2026-01", description="Version of the SEPA mandate wording; stored with each acceptance."
    )
    bank_data_keys: list[str] = Field(
        default_factory=list,
        description="Fernet keys (urlsafe base64, 32 bytes) that encrypt IBANs at rest, newest "
        "first: the first encrypts, all decrypt. Rotation: put a new key first, run "
        "`kundenportal reencrypt-bank-data`, then drop the old key. Empty: derived from "
        "SECRET_KEY (development only; refused in prod).",
    )
    document_dir: Path = Field(
        ROOT / "var" / "documents",
        description="Folder of the document store (invoice PDFs under invoice-pdfs/, meter "
        "photos under meter-photos/); never served directly.",
    )
    invoice_pdf_max_bytes: int = Field(
        5_000_000, ge=1, description="Larger invoice PDFs are refused by the import."
    )
    document_link_valid_seconds: int = Field(
        300, ge=10, description="How long a signed invoice download link works."
    )
    invoices_path: str = Field(
        "/rechnungen", description="Front-end page listing invoices (online-invoice mail)."
    )

    # Moving out (see README "Moving out").
    move_out_max_past_days: int = Field(
        28, ge=0, description="A move-out may be reported up to this many days after the date."
    )
    move_out_max_ahead_days: int = Field(
        183, ge=0, description="A move-out may be reported up to this many days ahead (6 months)."
    )
    final_reading_window_days: int = Field(
        14,
        ge=0,
        description="Final readings are taken from this many days before to this many days "
        "after the move-out date, reading period or not.",
    )
    move_in_department_address: str = Field(
        "kundenservice@wasser.example",
        description="Where move-in requests go (moving in is a new contract, not self-service).",
    )
    move_out_page_path: str = Field(
        "/umzug", description="Page of the front end where final readings are entered."
    )

    # Reading reminders (see README "Reading reminders").
    reminder_days_before_close: int = Field(
        7, ge=0, description="The second reminder goes out this many days before a period ends."
    )
    reminder_batch_size: int = Field(
        500, ge=1, description="Customers per transaction of the reminder job (markers + mails)."
    )
    reminders_in_app: bool = Field(
        True, description="Run the reminder job on the purge schedule inside the app."
    )
    reading_page_path: str = Field(
        "/zaehlerstand", description="Page of the front end where readings are submitted."
    )
    reminder_settings_path: str = Field(
        "/einstellungen", description="Page of the front end where reminders are switched off."
    )

    # Meter photos (kept in the document store, DOCUMENT_DIR).
    photo_max_bytes: int = Field(
        10_000_000, ge=1, description="Largest photo file accepted, in bytes (10 MB)."
    )
    photo_max_pixels: int = Field(
        40_000_000,
        ge=1,
        description="Most pixels (width × height) a photo may declare: bounds the memory a "
        "decoded image takes (decompression bombs) before it is decoded.",
    )
    photo_max_side: int = Field(
        2560, ge=64, description="Photos are scaled down to this many pixels on the longer side."
    )
    photo_retention_days: int = Field(
        3 * 365, ge=1, description="Meter photos are deleted this many days after upload."
    )
    upload_max_body_bytes: int = Field(
        10_500_000,
        description="Largest multipart request body (a photo plus the operation); other "
        "requests keep MAX_BODY_BYTES.",
    )

    # API.
    graphiql: bool | None = Field(None, description="Default: on in dev, off in prod.")
    graphiql_assets_dir: Path = Field(
        ROOT / "static" / "vendor" / "graphiql",
        description="Where `kundenportal fetch-graphiql` puts GraphiQL's files (git-ignored).",
    )
    introspection: bool | None = Field(None, description="Default: on in dev, off in prod.")
    allow_free_documents: bool | None = Field(
        None,
        description="Whether clients without a partner key may send documents that are not "
        "persisted (free documents, APQ registration). Default: on in dev, off in prod.",
    )
    http_max_head_bytes: int = Field(
        32_768, description="Request line and headers together; larger heads get 400."
    )
    http_head_timeout_seconds: float = Field(
        10.0,
        description="Time a client has to send a request's head once connected (or after the "
        "previous response); then the connection is closed (slowloris).",
    )
    http_body_timeout_seconds: float = Field(
        30.0, description="Time a client has to send a request's body; then 408."
    )
    http_keep_alive_seconds: int = Field(5, description="Idle keep-alive connections close.")
    http_limit_concurrency: int = Field(
        500,
        description="Connections and requests a process serves at once; beyond it uvicorn "
        "answers 503 at once instead of queueing without bound.",
    )
    http_backlog: int = Field(1024, description="Pending TCP connections the kernel queues.")
    max_body_bytes: int = Field(100_000, description="Larger request bodies get 413.")
    max_depth: int = Field(10, description="Deepest selection nesting an operation may have.")
    max_aliases: int = Field(15, description="Aliases per document; aliases multiply work.")
    max_tokens: int = Field(2_000, description="Tokens per document; bounds parsing work.")
    max_cost: int = Field(
        5_000, description="Cost per operation: each field counts once per object it is read on."
    )
    validation_budget: int = Field(
        30_000,
        description="Work graphql-core's validation may take per document, in units of about "
        "1 µs (comparisons of same-named fields and fragment spreads, api/limits.py): about "
        "30 ms. Documents that would take more are refused before they are validated.",
    )
    cost_assumed_page_size: int = Field(
        100,
        description="Page size the cost limit assumes for a list argument (first, last, limit) "
        "given by a variable without a default; the largest page any area serves.",
    )
    document_cache_size: int = Field(
        1_000, description="Parsed and validated documents kept per process, keyed by hash."
    )
    apq_cache_size: int = Field(
        1_000, description="Registered APQ documents kept in-process when REDIS_URL is unset."
    )
    apq_ttl_seconds: int = Field(
        7 * 24 * 3600, description="How long Redis keeps a registered APQ document unused."
    )
    apq_redis_prefix: str = Field("kp:apq:", description="Key prefix of APQ entries in Redis.")
    apq_registrations_per_address: int = Field(
        200,
        description="New APQ hashes one client address may register per window; each is a "
        "document the server parses, validates and keeps.",
    )
    apq_registration_window_seconds: int = 3600

    # Operations.
    gc_freeze_after_start: bool = Field(
        True,
        description="Once started, keep what startup built out of the garbage collector's "
        "walks (gc.freeze): collections then cost what requests create.",
    )
    log_format: Literal["json", "text"] | None = Field(
        None, description="Default: text in dev, JSON elsewhere (one object per line)."
    )
    log_level: str = "INFO"
    hsts: bool = Field(True, description="Send Strict-Transport-Security (R18: HTTPS only).")

    # Retention.
    audit_retention_days: int = 365
    contact_retention_days: int = Field(
        180, description="Closed contact messages (names, addresses, text) are kept this long."
    )
    purge_interval_seconds: int = 3600

    @model_validator(mode="after")
    def _one_smtp_tls_mode(self) -> Settings:
        if self.smtp_tls and self.smtp_starttls:
            raise ValueError("SMTP_TLS (implicit TLS) and SMTP_STARTTLS exclude each other")
        return self

    @model_validator(mode="after")
    def _bank_data_keys_are_fernet_keys(self) -> Settings:
        for position, key in enumerate(self.bank_data_keys, start=1):
            try:
                decoded = base64.urlsafe_b64decode(key.encode())
            except ValueError:
                decoded = b""
            if len(decoded) != 32:
                raise ValueError(
                    f"BANK_DATA_KEYS: key {position} is not a Fernet key (32 bytes, urlsafe "
                    "base64); make one with `kundenportal new-bank-data-key`"
                )
        return self

    @property
    def db_timeouts(self) -> Timeouts:
        """The database timeouts of the app and the mail worker (db.Timeouts)."""
        from db import Timeouts

        return Timeouts(
            connect=self.db_connect_timeout_seconds,
            acquire=self.db_acquire_timeout_seconds,
            statement=self.db_statement_timeout_seconds,
        )

    @property
    def is_prod(self) -> bool:
        return self.env == "prod"

    @property
    def log_format_resolved(self) -> str:
        return self.log_format or ("text" if self.env == "dev" else "json")

    @property
    def graphiql_enabled(self) -> bool:
        return self.graphiql if self.graphiql is not None else not self.is_prod

    @property
    def introspection_enabled(self) -> bool:
        return self.introspection if self.introspection is not None else not self.is_prod

    @property
    def free_documents_allowed(self) -> bool:
        if self.allow_free_documents is not None:
            return self.allow_free_documents
        return not self.is_prod

    def check_for_production(self) -> None:
        """Refuse to run `prod` with a development default left in place."""
        if not self.is_prod:
            return
        problems = []
        if self.secret_key == DEV_SECRET_KEY or len(self.secret_key) < 32:
            problems.append("SECRET_KEY must be set to a random value of at least 32 characters")
        if self.database_url.startswith("sqlite"):
            problems.append("DATABASE_URL must point to PostgreSQL, not SQLite")
        if self.mail_backend == "file":
            problems.append("MAIL_BACKEND must be 'smtp', not 'file'")
        if self.smtp_username and not (self.smtp_tls or self.smtp_starttls):
            problems.append("SMTP_USERNAME needs SMTP_STARTTLS or SMTP_TLS, not a plain login")
        if self.graphiql is True:
            problems.append("GRAPHIQL must be off in prod")
        if not self.cookie_secure:
            problems.append("COOKIE_SECURE must be on in prod")
        if not self.bank_data_keys:
            problems.append("BANK_DATA_KEYS must hold at least one Fernet key in prod")
        if self.webauthn_rp_id == "localhost" or any(
            not origin.startswith("https://") for origin in self.webauthn_origins
        ):
            problems.append(
                "WEBAUTHN_RP_ID must name the portal's domain and WEBAUTHN_ORIGINS its https "
                "origins, not localhost"
            )
        if problems:
            raise ConfigurationError("Refusing to start in prod: " + "; ".join(problems) + ".")


@lru_cache
def get_settings() -> Settings:
    return Settings()
