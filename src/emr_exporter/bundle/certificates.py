"""Finding the institution's certificates where Korean PCs keep them, for the wizard's certificate list.

A founder knows the "인증서 선택" window of banks and 홈택스: a list of 공동인증서 with 사용자, 용도, 발급자,
만료일. This module finds the same certificates without a password (the certificate half is public):

* 공동인증서 folders ``NPKI/<CA>/USER/<name>/`` holding ``signCert.der`` + ``signPri.key``, under
  ``%USERPROFILE%\\AppData\\LocalLow\\NPKI`` (Windows), every other drive's ``X:\\NPKI`` (USB sticks),
  ``~/NPKI`` and ``~/Library/Preferences/NPKI`` (macOS), and removable media mounted under
  ``/media``, ``/run/media`` or ``/Volumes``;
* ``.p12``/``.pfx`` files at the top of those places and of Documents/Desktop/Downloads (their certificate
  is usually encrypted, so the columns are filled once the password is given).

Nothing here reads a private key or a password. Whether the chosen certificate belongs to the institution
is :func:`emr_exporter.bundle.signer_check.check_signer`, the same check the export runs.
"""

from __future__ import annotations

import datetime as dt
import os
import string
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import NameOID

from emr_exporter.model import KST

#: Certificate policy OIDs of the Korean accredited CAs, by what they are for (용도).
_PERSONAL = ("1.2.410.200004.5.1.1.5", "1.2.410.200005.1.1.1", "1.2.410.200004.5.2.1.2", "1.2.410.200004.5.3.1.9",
             "1.2.410.200004.5.4.1.1", "1.2.410.200012.1.1.1", "1.2.410.200004.5.5.1.1")
_BUSINESS = ("1.2.410.200004.5.1.1.7", "1.2.410.200005.1.1.5", "1.2.410.200004.5.2.1.1", "1.2.410.200004.5.3.1.2",
             "1.2.410.200004.5.4.1.2", "1.2.410.200012.1.1.3", "1.2.410.200004.5.5.1.2")
_LIMITED = ("1.2.410.200004.5.1.1.9", "1.2.410.200004.5.2.1.7.2", "1.2.410.200004.5.4.1.102", "1.2.410.200012.1.1.103")
PURPOSES: dict[str, tuple[str, str]] = {
    **{oid: ("개인 범용", "personal, all purposes") for oid in _PERSONAL},
    **{oid: ("사업자 범용", "business, all purposes") for oid in _BUSINESS},
    **{oid: ("용도 제한용", "limited use") for oid in _LIMITED},
    "1.2.410.200005.1.1.4": ("은행·보험용", "banking and insurance"),
}
OTHER_PURPOSE = ("기타", "other")

#: The CAs as founders know them (issuer O, or the NPKI folder name).
ISSUERS: dict[str, tuple[str, str]] = {
    "yessign": ("금융결제원", "KFTC (yessign)"),
    "signkorea": ("코스콤", "Koscom (SignKorea)"),
    "kica": ("한국정보인증", "KICA"),
    "crosscert": ("한국전자인증", "CrossCert"),
    "tradesign": ("한국무역정보통신", "KTNET (TradeSign)"),
    "ktnet": ("한국무역정보통신", "KTNET (TradeSign)"),
}


@dataclass(frozen=True)
class FoundCertificate:
    """One certificate the wizard can list. ``kind`` is "npki" (a folder) or "pkcs12" (a file)."""

    path: Path
    kind: str
    place: str  # "this-pc" | "removable" | "home"
    holder: str | None = None  # 사용자 (the CN without the CA's serial)
    purpose: tuple[str, str] | None = None  # 용도 (ko, en)
    issuer: tuple[str, str] | None = None  # 발급자 (ko, en)
    not_after: dt.date | None = None  # 만료일 (the certificate's own date)
    subject: str | None = None

    def expired(self, today: dt.date | None = None) -> bool:
        return self.not_after is not None and self.not_after < (today or dt.date.today())

    @property
    def needs_password_to_describe(self) -> bool:
        return self.holder is None


@dataclass(frozen=True)
class SearchPlace:
    path: Path
    place: str
    #: True for an NPKI root (CA/USER/<name> below); False for a folder searched only for .p12/.pfx files.
    npki: bool


def _windows_drives() -> list[str]:
    """Drive letters other than C: that exist (USB sticks, card readers, second disks)."""
    return [f"{letter}:\\" for letter in string.ascii_uppercase[3:] if os.path.isdir(f"{letter}:\\")]


def standard_places(
    environ: Mapping[str, str] | None = None,
    platform: str | None = None,
    drives: Callable[[], Iterable[str]] | None = None,
) -> list[SearchPlace]:
    """Where Korean PCs keep certificates, most likely first. Arguments are for tests."""
    environ = os.environ if environ is None else environ
    platform = platform or sys.platform
    places: list[SearchPlace] = []
    if platform.startswith("win"):
        profile = Path(environ.get("USERPROFILE", str(Path.home())))
        places.append(SearchPlace(profile / "AppData" / "LocalLow" / "NPKI", "this-pc", True))
        for drive in (drives or _windows_drives)():
            places.append(SearchPlace(Path(drive.rstrip("\\/") + "\\NPKI"), "removable", True))
            places.append(SearchPlace(Path(drive), "removable", False))
        home = profile
    else:
        home = Path(environ.get("HOME", str(Path.home())))
        places.append(SearchPlace(home / "NPKI", "home", True))
        if platform == "darwin":
            places.append(SearchPlace(home / "Library" / "Preferences" / "NPKI", "this-pc", True))
        user = environ.get("USER", "")
        mounts = [Path("/Volumes")] if platform == "darwin" else [Path("/media") / user, Path("/run/media") / user]
        for mount_root in (drives() if drives else mounts):
            root = Path(mount_root)
            try:
                volumes = sorted(p for p in root.iterdir() if p.is_dir())
            except OSError:
                continue
            for volume in volumes:
                places.append(SearchPlace(volume / "NPKI", "removable", True))
                places.append(SearchPlace(volume, "removable", False))
    for folder in ("Documents", "Desktop", "Downloads"):
        places.append(SearchPlace(home / folder, "home", False))
    return places


def describe(certificate: x509.Certificate) -> dict[str, object]:
    """사용자·용도·발급자·만료일 of a certificate."""
    from emr_exporter.bundle.signer_check import certificate_holder

    purpose = OTHER_PURPOSE
    try:
        policies = certificate.extensions.get_extension_for_class(x509.CertificatePolicies).value
        for policy in policies:
            if policy.policy_identifier.dotted_string in PURPOSES:
                purpose = PURPOSES[policy.policy_identifier.dotted_string]
                break
    except x509.ExtensionNotFound:
        pass
    issuer_names = [a.value for a in certificate.issuer.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
    issuer_names += [a.value for a in certificate.issuer.get_attributes_for_oid(NameOID.COMMON_NAME)]
    issuer = next(
        (ISSUERS[key] for name in issuer_names for key in ISSUERS if key in str(name).casefold()),
        (str(issuer_names[0]), str(issuer_names[0])) if issuer_names else ("알 수 없음", "unknown"),
    )
    holder = certificate_holder(certificate)
    return {
        "holder": holder.holder_name or certificate.subject.rfc4514_string(),
        "purpose": purpose,
        "issuer": issuer,
        "not_after": certificate.not_valid_after_utc.astimezone(KST).date(),  # the day in Korea
        "subject": holder.subject,
    }


def _npki_folders(root: Path) -> Iterable[Path]:
    """``<root>/<CA>/USER/<name>`` folders holding a signCert.der (depth-limited: no walk of a whole disk)."""
    try:
        authorities = sorted(p for p in root.iterdir() if p.is_dir())
    except OSError:
        return
    for authority in authorities:
        users = authority / "USER"
        try:
            folders = sorted(p for p in users.iterdir() if p.is_dir())
        except OSError:
            continue
        for folder in folders:
            if (folder / "signCert.der").is_file():
                yield folder


def _pkcs12_files(folder: Path) -> Iterable[Path]:
    try:
        return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in (".p12", ".pfx"))
    except OSError:
        return []


def find_certificates(places: Iterable[SearchPlace] | None = None) -> list[FoundCertificate]:
    """Every certificate found in ``places`` (default: :func:`standard_places`), each once."""
    found: list[FoundCertificate] = []
    seen: set[Path] = set()
    for place in standard_places() if places is None else places:
        if place.npki:
            for folder in _npki_folders(place.path):
                key = folder.resolve()
                if key in seen:
                    continue
                seen.add(key)
                try:
                    certificate = x509.load_der_x509_certificate((folder / "signCert.der").read_bytes())
                except (OSError, ValueError):
                    continue  # a damaged or foreign file is not offered
                details = describe(certificate)
                found.append(FoundCertificate(path=folder, kind="npki", place=place.place, **details))  # type: ignore[arg-type]
        for file in _pkcs12_files(place.path):
            key = file.resolve()
            if key in seen:
                continue
            seen.add(key)
            found.append(FoundCertificate(path=file, kind="pkcs12", place=place.place, **_pkcs12_public(file)))  # type: ignore[arg-type]
    return found


def _pkcs12_public(path: Path) -> dict[str, object]:
    """The columns of a .p12 whose certificate is readable without a password (rare); else nothing."""
    from cryptography.hazmat.primitives.serialization import pkcs12

    try:
        _, certificate, _ = pkcs12.load_key_and_certificates(path.read_bytes(), None)
    except (OSError, ValueError, TypeError):
        return {}
    return describe(certificate) if certificate is not None else {}


__all__ = ["FoundCertificate", "SearchPlace", "describe", "find_certificates", "standard_places"]
