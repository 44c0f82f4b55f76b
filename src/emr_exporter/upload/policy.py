"""Who we are willing to send a bundle to, and how we prove it is really the store.

* HTTPS only, with certificate verification. If a store certificate is known (``--store-cert`` or a PEM in
  ``resources/store/``), it is the *only* trust anchor for the TLS connection: that pins the store.
* Plain HTTP is refused, except to this computer (127.0.0.1, ::1, localhost), which is for tests and trials.
* The bearer token comes from the environment variable ``EMR_EXPORTER_STORE_TOKEN`` or a hidden prompt,
  never from the command line (argv is visible to every user of the PC and lands in shell history).
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from emr_exporter.errors import ConfigError

#: Environment variable holding the bearer token for the store.
TOKEN_ENV_VAR = "EMR_EXPORTER_STORE_TOKEN"

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


def check_store_url(url: str) -> str:
    """Return ``url`` if we may send a bundle there; raise ConfigError saying why not otherwise."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host:
        raise ConfigError(
            f"The store address {url!r} is not a web address. It should look like https://store.example.kr/files/."
        )
    if parts.scheme == "http" and host not in LOOPBACK_HOSTS:
        raise ConfigError(
            f"Refusing to send the bundle over plain HTTP to {host}: the connection would not be encrypted "
            "or authenticated. Use the store's https:// address."
        )
    return url


def same_origin(a: str, b: str) -> bool:
    """True if both URLs have the same scheme, host and port (an upload URL must stay on the store)."""
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.scheme, (pa.hostname or "").lower(), pa.port) == (pb.scheme, (pb.hostname or "").lower(), pb.port)


def default_store_certificate() -> Path | None:
    """The store certificate shipped in ``resources/store/`` (first ``*.pem``), or None if none ships yet."""
    from emr_exporter.resources import optional_resource_path

    store_dir = optional_resource_path("store")
    if store_dir is None or not store_dir.is_dir():
        return None
    pems = sorted(store_dir.glob("*.pem"))
    return pems[0] if pems else None


def resolve_store_certificate(explicit: str | os.PathLike[str] | None) -> Path | None:
    """The store certificate to pin and to verify receipts with: the explicit one, else the shipped one."""
    if explicit is not None:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"The store certificate file {path} does not exist. Check the --store-cert path.")
        return path
    return default_store_certificate()


def token_from_environment() -> str | None:
    """The bearer token from EMR_EXPORTER_STORE_TOKEN, or None."""
    token = os.environ.get(TOKEN_ENV_VAR, "").strip()
    return token or None
