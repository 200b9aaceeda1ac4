"""A mail is built by a pure function: template + data → subject, text and HTML.

Templates live in `templates/<locale>/<kind>.subject`, `.txt` and `.html`; each
text and HTML template extends its locale's `base.txt`/`base.html`, which add
the utility's name, support address and portal URL from settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from settings import Settings

TEMPLATES = Path(__file__).parent / "templates"

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


def render(kind: str, locale: str, data: dict[str, Any], settings: Settings) -> RenderedMail:
    locale = locale if locale in ("de", "en") else "de"
    context = {
        "utility_name": settings.utility_name,
        "support_address": settings.support_address,
        "portal_url": settings.portal_url.rstrip("/"),
        **data,
    }
    subject = _env.get_template(f"{locale}/{kind}.subject").render(context).strip()
    return RenderedMail(
        subject=" ".join(subject.split()),
        text=_env.get_template(f"{locale}/{kind}.txt").render(context),
        html=_env.get_template(f"{locale}/{kind}.html").render(context),
    )
