"""Which app registration credentials to use for a tenant.

One multi-tenant app registration serves every tenant by default. A tenant may name *other app settings*
holding its own client id / secret / certificate path: the Tenants table stores setting names, never secrets.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared import settings


class CredentialError(Exception):
    pass


@dataclass(frozen=True)
class AppCredentials:
    client_id: str
    client_secret: str = ""
    certificate_path: str = ""
    certificate_pem: str = ""  # PEM text (key + certificate), e.g. a Key Vault reference on Flex Consumption

    def __repr__(self) -> str:  # a secret must never reach a log line through a repr
        return f"AppCredentials(client_id={self.client_id!r}, secret={'***' if self.client_secret else ''})"


def resolve(override_prefix: str = "") -> AppCredentials:
    """Default app settings, or `<prefix>_CLIENT_ID` and one of `_CLIENT_SECRET`, `_CLIENT_CERTIFICATE_PATH`
    (a PEM file) or `_CLIENT_CERTIFICATE` (the PEM itself: Flex Consumption cannot mount a Key Vault
    certificate as a file, but an app setting can be a Key Vault reference to it)."""
    prefix = override_prefix or "O365"
    client_id = settings.get(f"{prefix}_CLIENT_ID")
    secret = settings.get(f"{prefix}_CLIENT_SECRET")
    cert = settings.get(f"{prefix}_CLIENT_CERTIFICATE_PATH")
    pem = settings.get(f"{prefix}_CLIENT_CERTIFICATE")
    if not client_id:
        raise CredentialError(f"app setting {prefix}_CLIENT_ID is not set")
    if not secret and not cert and not pem:
        raise CredentialError(
            f"none of {prefix}_CLIENT_SECRET, {prefix}_CLIENT_CERTIFICATE_PATH, {prefix}_CLIENT_CERTIFICATE is set"
        )
    return AppCredentials(client_id=client_id, client_secret=secret, certificate_path=cert, certificate_pem=pem)
