"""Certificates for the simulator: a local CA, the login listener's server certificate, client certificates.

azure-identity refuses an http:// authority, so the login listener needs TLS that the credential can be told
to trust (`connection_verify=<state_dir>/ca.pem`). The CA key is kept next to ca.pem so that a restarted
simulator keeps the same CA and a configured CA path stays valid.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_FILE = "ca.pem"
CA_KEY_FILE = "ca-key.pem"
SERVER_FILE = "server.pem"  # server certificate followed by its key, for ssl.SSLContext.load_cert_chain

_CA_NAME = "o365mon Graph simulator CA"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _write_private(path: Path, data: bytes) -> None:
    """Write key material readable by the owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def _key_pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _load_ca(state_dir: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None:
    cert_path, key_path = state_dir / CA_FILE, state_dir / CA_KEY_FILE
    if not (cert_path.is_file() and key_path.is_file()):
        return None
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except ValueError:
        return None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        return None
    # Regenerate well before expiry so a long-lived state dir never serves an expired chain.
    if cert.not_valid_after_utc < _now() + dt.timedelta(days=30):
        return None
    return cert, key


def ensure_ca(state_dir: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """Load the CA from `state_dir`, or create it (ca.pem + ca-key.pem)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    existing = _load_ca(state_dir)
    if existing:
        return existing
    # EC keys: generating RSA keys on every test run would cost far more time.
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, _CA_NAME)])
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - dt.timedelta(days=1))
        .not_valid_after(_now() + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(state_dir / CA_KEY_FILE, _key_pem(key))
    (state_dir / CA_FILE).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert, key


def issue_server_certificate(state_dir: Path) -> Path:
    """Create server.pem (certificate + key) for IP:127.0.0.1 and DNS:localhost, signed by the CA."""
    ca_cert, ca_key = ensure_ca(state_dir)
    key = ec.generate_private_key(ec.SECP256R1())
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - dt.timedelta(days=1))
        .not_valid_after(_now() + dt.timedelta(days=365))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.IPv4Address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    path = state_dir / SERVER_FILE
    _write_private(path, cert.public_bytes(serialization.Encoding.PEM) + _key_pem(key))
    return path


def server_ssl_context(state_dir: Path) -> ssl.SSLContext:
    """TLS context for the login listener; the matching CA is `<state_dir>/ca.pem`."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(issue_server_certificate(state_dir))
    return ctx


def client_ssl_context(state_dir: Path) -> ssl.SSLContext:
    """Client context trusting the simulator CA (for tests and tools calling the login listener directly)."""
    return ssl.create_default_context(cafile=str(state_dir / CA_FILE))


def make_client_certificate(path: Path, common_name: str = "o365mon simulator app") -> str:
    """Write a self-signed client certificate and its key to one PEM file; return its SHA-1 thumbprint.

    RSA because azure-identity's CertificateCredential signs its client assertion with RS256. The thumbprint
    is uppercase hex, the form the Entra portal shows and `AppCredential.thumbprint` expects.
    """
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - dt.timedelta(days=1))
        .not_valid_after(_now() + dt.timedelta(days=730))
        .sign(key, hashes.SHA256())
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_private(path, cert.public_bytes(serialization.Encoding.PEM) + _key_pem(key))
    return certificate_thumbprint(cert)


def certificate_thumbprint(cert: x509.Certificate) -> str:
    """SHA-1 thumbprint (uppercase hex): the identifier MSAL puts, base64url-encoded, in the JWT `x5t`."""
    # SHA-1 here is an identifier fixed by the protocol, not a security choice.
    return cert.fingerprint(hashes.SHA1()).hex().upper()
