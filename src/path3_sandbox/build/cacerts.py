"""The host's CA bundle, for builds behind a TLS-intercepting proxy.

Corporate proxies (and these CI machines) re-sign registry TLS with a local CA that the host
trusts through environment variables. Image builds need that bundle in their build stage only.
"""

from __future__ import annotations

import os
import ssl
from pathlib import Path

# In the order tools consult them: Node's own variable first, then OpenSSL's, then Python's.
CA_ENV_VARS = ("NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
PEM_MARKER = b"-----BEGIN CERTIFICATE-----"


def host_ca_files(environ: dict[str, str] | os._Environ = os.environ) -> list[Path]:
    """Readable PEM files named by the CA variables, each once, in variable order."""
    found: list[Path] = []
    seen: set[Path] = set()
    for name in CA_ENV_VARS:
        value = environ.get(name)
        if not value:
            continue
        path = Path(value)
        try:
            real = path.resolve()
            if real in seen or not real.is_file() or PEM_MARKER not in real.read_bytes():
                continue
        except OSError:
            continue
        seen.add(real)
        found.append(path)
    return found


def host_ca_bundle(environ: dict[str, str] | os._Environ = os.environ) -> bytes:
    """All host CA files concatenated, or b"" when the host names none (a normal laptop)."""
    return b"\n".join(path.read_bytes().rstrip() + b"\n" for path in host_ca_files(environ))


def ssl_context() -> ssl.SSLContext:
    """The system trust store plus the host's extra CA files, for registry look-ups from Python."""
    context = ssl.create_default_context()
    for path in host_ca_files():
        context.load_verify_locations(cafile=str(path))
    return context
