"""Server-rendered console pages: one Jinja2 environment over shared/console/templates (autoescaped), and the
values every page gets (who is signed in, the CSRF token, the links)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import jinja2

from shared.console import auth
from shared.console.auth import Principal

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
BASE = "/api/console"  # the Functions route prefix (host.json) + the console's routes
NAV = (
    ("dashboard", "Dashboard", f"{BASE}/"),
    ("review", "Review", f"{BASE}/review"),
    ("licences", "Licences", f"{BASE}/licences"),
)


def static_url(path: str) -> str:
    return f"{BASE}/static/{path.lstrip('/')}"


@functools.cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,  # a misspelt variable fails the test that renders it, not silently
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(static=static_url, base=BASE, nav=NAV, csrf_field=auth.CSRF_FIELD, csrf_header=auth.CSRF_HEADER)
    return env


def render(template: str, *, principal: Principal, **context: Any) -> str:
    """A page for a signed-in person (base.html shows them, their role and the CSRF token)."""
    return (
        environment()
        .get_template(template)
        .render(principal=principal, csrf_token=auth.csrf_token(principal), **context)
    )


def error_page(message: str, *, status: int, principal: Principal | None = None) -> str:
    """The body of a refusal or failure (also for nobody signed in: no token, no navigation)."""
    return (
        environment()
        .get_template("error.html")
        .render(
            principal=principal,
            csrf_token=auth.csrf_token(principal) if principal else "",
            message=message,
            status=status,
        )
    )
