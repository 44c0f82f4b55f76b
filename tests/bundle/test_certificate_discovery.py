"""Certificate discovery: 공동인증서 folders and .p12 files in the places Korean PCs keep them, with the
columns founders know (사용자·용도·발급자·만료일); the chosen one goes through the export's signer check."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from emr_exporter.bundle.keys import encrypt_npki_private_key
from emr_exporter.jobs.certificates import SearchPlace, check_certificate, find_certificates, standard_places
from emr_exporter.model import KST

NOW = dt.datetime.now(dt.UTC)


def make_certificate(cn: str, ca_org: str, policy: str, days: int) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    issuer = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "KR"),
                        x509.NameAttribute(NameOID.ORGANIZATION_NAME, ca_org),
                        x509.NameAttribute(NameOID.COMMON_NAME, f"{ca_org}CA")])
    subject = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "KR"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, ca_org),
                         x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    certificate = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=400)).not_valid_after(NOW + dt.timedelta(days=days))
        .add_extension(x509.CertificatePolicies([x509.PolicyInformation(x509.ObjectIdentifier(policy), None)]),
                       critical=False)
        .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    return certificate, key


def npki_folder(root: Path, ca: str, cn: str, policy: str, days: int, password: str = "pw") -> Path:
    certificate, key = make_certificate(cn, ca, policy, days)
    folder = root / ca / "USER" / f"cn={cn},ou=x,o={ca},c=kr"
    folder.mkdir(parents=True)
    (folder / "signCert.der").write_bytes(certificate.public_bytes(serialization.Encoding.DER))
    (folder / "signPri.key").write_bytes(encrypt_npki_private_key(key, password))
    return folder


def test_finds_npki_folders_on_this_pc_and_a_usb_stick_and_p12_files(tmp_path: Path) -> None:
    local = tmp_path / "LocalLow" / "NPKI"
    usb = tmp_path / "usb"
    clinic = npki_folder(local, "yessign", "햇살가정의원(99350017)()0012345678901234", "1.2.410.200005.1.1.5", 200)
    personal = npki_folder(local, "CrossCert", "한가상()0010041200805301234567", "1.2.410.200004.5.4.1.1", -3)
    stick = npki_folder(usb / "NPKI", "SignKorea", "햇살가정의원 99350017", "1.2.410.200004.5.1.1.7", 30)
    (local / "yessign" / "USER" / "empty").mkdir()  # a folder without signCert.der is not offered
    certificate, key = make_certificate("다른의원", "KICA", "1.2.410.200004.5.2.1.1", 90)
    p12 = usb / "backup.PFX"
    p12.write_bytes(pkcs12.serialize_key_and_certificates(
        b"x", key, certificate, None, serialization.BestAvailableEncryption(b"secret")))

    places = [SearchPlace(local, "this-pc", True), SearchPlace(usb / "NPKI", "removable", True),
              SearchPlace(usb, "removable", False), SearchPlace(local, "this-pc", True)]  # listed twice: found once
    found = {f.path: f for f in find_certificates(places)}
    assert set(found) == {clinic, personal, stick, p12}

    first = found[clinic]
    assert (first.kind, first.place, first.holder) == ("npki", "this-pc", "햇살가정의원")
    assert first.purpose == ("사업자 범용", "business, all purposes")
    assert first.issuer == ("금융결제원", "KFTC (yessign)")
    # 만료일: the day in Korea (a certificate ending at 15:30 UTC ends on the next day there)
    assert first.not_after == (NOW + dt.timedelta(days=200)).astimezone(KST).date() and not first.expired()
    assert found[personal].purpose[0] == "개인 범용" and found[personal].issuer[0] == "한국전자인증"
    assert found[personal].holder == "한가상" and found[personal].expired()
    assert found[stick].place == "removable" and found[stick].issuer[0] == "코스콤"
    assert found[p12].kind == "pkcs12" and found[p12].needs_password_to_describe  # encrypted: no columns yet


def test_the_chosen_certificate_is_checked_against_the_institution(tmp_path: Path) -> None:
    folder = npki_folder(tmp_path / "NPKI", "yessign", "햇살가정의원(99350017)", "1.2.410.200005.1.1.5", 200)
    [found] = find_certificates([SearchPlace(tmp_path / "NPKI", "home", True)])
    same = check_certificate(found.path, "pw", institution_code="99350017", institution_name="햇살가정의원")
    assert same.status == "match"
    other = check_certificate(folder, "pw", institution_code="12345678", institution_name="데모의원")
    assert other.status == "mismatch" and "12345678" in other.korean()


def test_standard_places_on_windows_and_elsewhere(tmp_path: Path) -> None:
    windows = standard_places({"USERPROFILE": r"C:\Users\원장"}, "win32", drives=lambda: ["E:\\"])
    paths = [(str(p.path).replace("\\", "/"), p.place, p.npki) for p in windows]
    assert paths[0] == ("C:/Users/원장/AppData/LocalLow/NPKI", "this-pc", True)
    assert ("E:/NPKI", "removable", True) in paths and ("E:/", "removable", False) in paths
    (tmp_path / "media" / "STICK").mkdir(parents=True)
    linux = standard_places({"HOME": str(tmp_path / "home"), "USER": "u"}, "linux",
                            drives=lambda: [tmp_path / "media"])
    assert linux[0].path == tmp_path / "home" / "NPKI"
    assert SearchPlace(tmp_path / "media" / "STICK" / "NPKI", "removable", True) in linux


@pytest.mark.parametrize("broken", [b"", b"not a certificate"])
def test_a_damaged_signcert_is_not_offered(tmp_path: Path, broken: bytes) -> None:
    folder = tmp_path / "NPKI" / "KICA" / "USER" / "x"
    folder.mkdir(parents=True)
    (folder / "signCert.der").write_bytes(broken)
    assert find_certificates([SearchPlace(tmp_path / "NPKI", "home", True)]) == []


def test_the_expiry_date_is_the_day_in_korea() -> None:
    from emr_exporter.bundle.certificates import describe

    certificate, _ = make_certificate("의원", "yessign", "1.2.410.200005.1.1.4", 10)
    assert describe(certificate)["not_after"] == certificate.not_valid_after_utc.astimezone(KST).date()
    # one ending at 15:30 UTC on 31 December ends on 1 January in Korea
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "의원")])
    late = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
            .not_valid_after(dt.datetime(2027, 12, 31, 15, 30, tzinfo=dt.UTC)).sign(key, hashes.SHA256()))
    assert describe(late)["not_after"] == dt.date(2028, 1, 1)
