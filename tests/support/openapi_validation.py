"""Validation of recorded HTTP exchanges (devtools.runner.Exchange) against the app's OpenAPI description, with
openapi-core. A response must validate against what its operation documents; a request that does not validate
(a test sending a malformed request on purpose) must have been refused with a documented 4xx."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

from devtools.runner import Exchange

HOST_URL = "http://127.0.0.1"


class _Request:
    """openapi-core's Request protocol over a recorded exchange."""

    def __init__(self, exchange: Exchange) -> None:
        split = urlsplit(exchange.target)
        self.host_url = HOST_URL
        self.path = split.path
        self.method = exchange.method.lower()
        headers = Headers(list(exchange.request_headers.items()))
        cookies = [tuple(c.strip().split("=", 1)) for c in headers.get("Cookie", "").split(";") if "=" in c]
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(parse_qsl(split.query, keep_blank_values=True)),
            header=headers,
            cookie=ImmutableMultiDict(cookies),
            path={},
        )
        # A body without a content type is to be taken as application/octet-stream (RFC 9110, 8.3).
        self.content_type = headers.get("Content-Type") or ("application/octet-stream" if exchange.request_body else "")
        self.body = exchange.request_body or None


class _Response:
    def __init__(self, exchange: Exchange) -> None:
        self.status_code = exchange.status
        self.headers = Headers(exchange.response_headers)
        self.content_type = self.headers.get("Content-Type", "")
        self.data = exchange.response_body if exchange.method.upper() != "HEAD" else b""


def _messages(exc: BaseException) -> Iterator[str]:
    """The error and its causes, with the JSON Schema errors that openapi-core keeps in them."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield f"{type(current).__name__}: {current}"
        for schema_error in getattr(current, "schema_errors", None) or ():
            path = "/".join(str(p) for p in schema_error.absolute_path)
            yield f"  at '{path}': {schema_error.message}"
        current = current.__cause__ or current.__context__


@dataclass(frozen=True)
class Mismatch:
    method: str
    target: str
    status: int
    error: str

    def __str__(self) -> str:
        path = urlsplit(self.target).path
        return f"{self.method} {path} -> {self.status}: {self.error}"


# openapi-core knows JSON and text/plain; CSV (docs export and import) is text too.
_CSV_TEXT = {"text/csv": lambda data, **_: data.decode("utf-8") if isinstance(data, bytes) else data}


def _trimmed(document: dict[str, Any], request: _Request) -> dict[str, Any]:
    """The document with only the parameters the request carries (and the required ones): openapi-core reads
    every declared parameter, ~5 ms each, and a check mode declares up to ~90 of them."""
    present = {
        "query": set(request.parameters.query),
        "header": {name.lower() for name in request.parameters.header.keys()},
        "cookie": set(request.parameters.cookie),
    }

    def keep(param: dict[str, Any]) -> bool:
        where = param["in"]
        name = param["name"].lower() if where == "header" else param["name"]
        return where == "path" or param.get("required", False) or name in present.get(where, set())

    paths = {
        path: {
            method: {**op, "parameters": [p for p in op.get("parameters", []) if keep(p)]}
            for method, op in item.items()
        }
        for path, item in document["paths"].items()
    }
    return {**document, "paths": paths}


class ExchangeValidator:
    def __init__(self, document: dict[str, Any]) -> None:
        OpenAPI.from_dict(document)  # the document itself is checked once, here
        self.document = document

    def mismatches(self, exchange: Exchange) -> list[Mismatch]:
        request, response = _Request(exchange), _Response(exchange)
        config = Config(spec_validator_cls=None, extra_media_type_deserializers=_CSV_TEXT)
        openapi = OpenAPI.from_dict(_trimmed(self.document, request), config=config)
        found: list[str] = []
        with warnings.catch_warnings():  # allowEmptyValue is deprecated in 3.1, yet says what the routes do
            warnings.simplefilter("ignore", DeprecationWarning)
            request_errors = [m for e in openapi.iter_request_errors(request) for m in _messages(e)]
            response_errors = ["; ".join(_messages(e)) for e in openapi.iter_response_errors(request, response)]
        if request_errors and not 400 <= exchange.status < 500:
            answered = f"request outside the description, answered {exchange.status}: "
            found.append(answered + "; ".join(request_errors))
        found += [f"response: {text}" for text in response_errors]
        return [Mismatch(exchange.method, exchange.target, exchange.status, text) for text in found]
