"""The signer check: a bundle signed with another institution's certificate is refused unless overridden.

Certificates are made in the test with the subject shapes Korean CAs issue (institution certificates
with the 요양기관기호, business certificates with the 사업자등록번호, the founder's personal 공동인증서 with
the CA's serial after the name). The end-to-end tests seal the demo clinic and open the bundle.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from bundle_testkit import NOW, make_ca
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from emr_exporter import model
from emr_exporter.bundle.keys import load_pkcs12_signer
from emr_exporter.cli import main
from emr_exporter.demo.keys import make_demo_keys
from emr_exporter.errors import SignerMismatchError
from emr_exporter.jobs.service import DemoRequest, ExportRequest, prepare_demo, run_export
from emr_exporter.jobs.signer import certificate_holder, check_certificate, check_signer, enforce_signer
from emr_exporter.sources.address import SourceAddress

SUNSHINE = model.Institution(code="99350017", name="햇살가정의원(가상)", founder="한가상")


def cert(*attributes: tuple[x509.ObjectIdentifier, str]) -> x509.Certificate:
    ca = make_ca()
    key = rsa.generate_private_key(65537, 2048)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(oid, value) for oid, value in attributes]))
        .issuer_name(ca.cert.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=1)).not_valid_after(NOW + dt.timedelta(days=30))
        .sign(ca.key, hashes.SHA256())
    )


CN, ORG, OU, C, SN = (NameOID.COMMON_NAME, NameOID.ORGANIZATION_NAME, NameOID.ORGANIZATIONAL_UNIT_NAME,
                    NameOID.COUNTRY_NAME, NameOID.SERIAL_NUMBER)


def test_institution_certificate_with_the_code_matches_and_another_code_is_a_mismatch() -> None:
    own = check_signer(cert((CN, "햇살가정의원(99350017)"), (ORG, "보건복지부"), (C, "KR")), SUNSHINE)
    assert (own.status, own.matched_by) == ("match", ("요양기관기호", "name"))
    assert own.ok

    # Same name, another institution's code: the code decides (two clinics may share a name).
    other = check_signer(cert((CN, "햇살가정의원(11223344)"), (C, "KR")), SUNSHINE)
    assert other.status == "mismatch" and not other.ok
    assert other.evidence == "the certificate carries 요양기관기호 11223344, the bundle is labelled 99350017"
    # A renamed clinic keeps its code: the code alone is enough.
    renamed = check_signer(cert((CN, "새햇살의원"), (SN, "99350017"), (C, "KR")), SUNSHINE)
    assert (renamed.status, renamed.matched_by) == ("match", ("요양기관기호",))


def test_business_certificate_compares_the_business_number_when_the_export_knows_it() -> None:
    business = cert((CN, "햇살가정의원(한가상)0041234567890123456789"), (OU, "corporation4IB"),
                    (OU, "KB"), (ORG, "yessign"), (C, "kr"), (SN, "123-45-67890"))
    holder = certificate_holder(business)
    assert holder.business_numbers == ("1234567890",)
    assert holder.institution_codes == ()  # neither the 22-digit serial nor the 10-digit number
    assert holder.names == ("햇살가정의원",)  # CA words (yessign, KB, corporation4IB) are not names
    assert check_signer(business, SUNSHINE, business_number="123-45-67890").matched_by == ("사업자등록번호", "name")
    wrong = check_signer(business, SUNSHINE, business_number="9876543210")
    assert wrong.status == "mismatch"
    assert wrong.evidence == ("the certificate carries 사업자등록번호 123-45-67890, the institution's is "
                              "987-65-43210")
    # Without a number to compare, the name decides.
    assert check_signer(business, SUNSHINE).matched_by == ("name",)


def test_founder_personal_certificate_matches_by_the_founder_and_a_stranger_is_a_mismatch() -> None:
    founder = cert((CN, "한가상()0010041200805301234567"), (OU, "personal4IB"), (OU, "KB"), (ORG, "yessign"),
                   (C, "kr"))
    check = check_signer(founder, SUNSHINE)
    assert (check.status, check.matched_by) == ("match", ("founder (개설자) name",))
    stranger = check_signer(cert((CN, "김다른()0010041200805309999999"), (ORG, "yessign"), (C, "kr")), SUNSHINE)
    assert stranger.status == "mismatch"
    assert stranger.evidence == ("the certificate names '김다른', not the institution '햇살가정의원(가상)' or its "
                                 "founder (개설자) '한가상'")
    nothing = check_signer(cert((ORG, "yessign"), (OU, "personal4IB"), (C, "kr")), SUNSHINE)
    assert nothing.status == "unknown" and nothing.ok


def test_enforce_raises_a_config_error_unless_overridden() -> None:
    other = cert((CN, "DEMO ONLY 데모의원 (12345678)"), (ORG, "DEMO"), (C, "KR"))
    with pytest.raises(SignerMismatchError) as caught:
        enforce_signer(other, SUNSHINE)
    assert caught.value.code == "signer-mismatch" and caught.value.exit_code == 2
    assert str(caught.value).startswith(
        "The signing certificate 'C=KR,O=DEMO,CN=DEMO ONLY 데모의원 (12345678)' does not belong to the "
        "institution the bundle is labelled with (99350017 햇살가정의원(가상)): the certificate carries "
        "요양기관기호 12345678, the bundle is labelled 99350017."
    )
    assert "--accept-signer-mismatch" in str(caught.value)
    accepted = enforce_signer(other, SUNSHINE, allow_mismatch=True)
    assert accepted.overridden and accepted.ok and accepted.status == "mismatch"
    assert accepted.bag_info_value().startswith("mismatch accepted by the operator")


def test_demo_keys_name_the_demo_clinic_and_old_demo_keys_are_replaced(tmp_path: Path) -> None:
    keys = make_demo_keys(tmp_path / "k")
    assert keys.signer.certificate.subject.rfc4514_string() == "C=KR,O=DEMO,CN=DEMO ONLY 햇살가정의원(가상) (99350017)"
    assert check_signer(keys.signer.certificate, SUNSHINE).matched_by == ("요양기관기호", "name")
    # The same folder is reused as it is (resume needs the same certificate)...
    assert make_demo_keys(tmp_path / "k").signer.certificate == keys.signer.certificate
    # ...but a set made for another institution (e.g. by an older version) is replaced.
    other = make_demo_keys(tmp_path / "k", institution_code="12345678", institution_name="데모의원")
    assert other.signer.certificate != keys.signer.certificate
    assert check_signer(other.signer.certificate, SUNSHINE).status == "mismatch"
    assert load_pkcs12_signer(other.institution_p12, "demo").certificate == other.signer.certificate
    # The wizard's job: load the certificate file and check it before exporting.
    checked = check_certificate(other.institution_p12, "demo", institution_code="12345678", institution_name="데모의원")
    assert (checked.status, checked.korean()) == ("match", "인증서가 이 의료기관의 것임을 확인했습니다.")
    refused = check_certificate(other.institution_p12, "demo", institution_code="99350017",
                                institution_name="햇살가정의원(가상)")
    assert refused.korean() == ("선택한 인증서는 다른 기관의 것으로 보입니다. 이 의료기관(요양기관기호 99350017)의 "
                                "인증서를 선택하세요.")


def _bag_member(bundle: Path, store_key: Path, out: Path, name: str) -> bytes:
    opened = CliRunner().invoke(main, ["open", str(bundle), "--key", str(store_key), "--out", str(out), "--json"])
    assert opened.exit_code == 0, opened.output
    return (Path(json.loads(opened.output)["bag_dir"]) / name).read_bytes()


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return prepare_demo(DemoRequest(out_dir=tmp_path_factory.mktemp("signer-demo"), patients=15))


def test_export_refuses_another_institutions_certificate_and_writes_nothing(
    demo_db: tuple[Path, Path], tmp_path: Path
) -> None:
    database, attachments = demo_db
    keys = make_demo_keys(tmp_path / "keys", institution_code="12345678", institution_name="데모의원")
    out = tmp_path / "out"
    request = ExportRequest(
        connector="demo", source=SourceAddress(database=database), attachments_root=attachments, out_dir=out,
        signer_path=keys.institution_p12, signer_password="demo", recipient_cert=keys.store_cert,
    )
    with pytest.raises(SignerMismatchError, match="요양기관기호 12345678, the bundle is labelled 99350017"):
        run_export(request)
    assert not out.exists() or not list(out.iterdir())  # refused before a bundle was started

    # The CLI: exit code 2 with the message; with the override the bundle is sealed and says so.
    runner = CliRunner()
    common = ["export", "--connector", "demo", "--source", str(database), "--attachments-root", str(attachments),
              "--out", str(out), "--cert", str(keys.institution_p12), "--store-cert", str(keys.store_cert)]
    refused = runner.invoke(main, common, env={"EMR_EXPORTER_CERT_PASSWORD": "demo"})
    assert refused.exit_code == 2
    assert "does not belong to the institution the bundle is labelled with" in refused.output
    accepted = runner.invoke(main, [*common, "--accept-signer-mismatch", "--json"],
                             env={"EMR_EXPORTER_CERT_PASSWORD": "demo"})
    assert accepted.exit_code == 0, accepted.output
    outcome = json.loads(accepted.output)
    assert outcome["signer_check"]["status"] == "mismatch" and outcome["signer_check"]["overridden"] is True
    bundle = Path(outcome["bundle"]["path"])
    record = json.loads(_bag_member(bundle, keys.store_key, tmp_path / "opened", "data/report/signer-check.json"))
    assert record == {
        "certificate_subject": "C=KR,O=DEMO,CN=DEMO ONLY 데모의원 (12345678)",
        "evidence": "the certificate carries 요양기관기호 12345678, the bundle is labelled 99350017",
        "institution": {"code": "99350017", "name": "햇살가정의원(가상)"},
        "matched_by": [],
        "overridden": True,
        "status": "mismatch",
    }
    bag_info = (tmp_path / "opened").rglob("bag-info.txt").__next__().read_text(encoding="utf-8")
    assert ("Signer-Check: mismatch accepted by the operator (override); see data/report/signer-check.json"
            in bag_info)


def test_demo_export_passes_the_signer_check_and_records_the_match(demo_db: tuple[Path, Path]) -> None:
    database, _ = demo_db
    outcome = CliRunner().invoke(main, ["demo", "--out", str(database.parent), "--json"])
    assert outcome.exit_code == 0, outcome.output
    result = json.loads(outcome.output)
    assert result["signer_check"]["status"] == "match"
    assert result["signer_check"]["matched_by"] == ["요양기관기호", "name"]
    keys = database.parent / "demo-keys"
    bundle = Path(result["bundle"]["path"])
    opened = CliRunner().invoke(main, ["open", str(bundle), "--key", str(keys / "store-key.pem"),
                                       "--out", str(database.parent / "opened"), "--json"])
    assert opened.exit_code == 0, opened.output
    bag = Path(json.loads(opened.output)["bag_dir"])
    assert "Signer-Check: match by 요양기관기호, name\n" in (bag / "bag-info.txt").read_text(encoding="utf-8")


def test_pkcs12_from_a_korean_ca_shape_round_trips_through_the_job(tmp_path: Path) -> None:
    """A .p12 whose certificate is the founder's personal certificate: the wizard's check matches it."""
    ca = make_ca()
    key = rsa.generate_private_key(65537, 2048)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(CN, "한가상()0010041200805301234567"),
                                 x509.NameAttribute(OU, "personal4IB"), x509.NameAttribute(ORG, "yessign"),
                                 x509.NameAttribute(C, "kr")]))
        .issuer_name(ca.cert.subject).public_key(key.public_key()).serial_number(7)
        .not_valid_before(NOW - dt.timedelta(days=1)).not_valid_after(NOW + dt.timedelta(days=30))
        .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
        .sign(ca.key, hashes.SHA256())
    )
    p12 = tmp_path / "founder.p12"
    p12.write_bytes(pkcs12.serialize_key_and_certificates(
        b"x", key, certificate, None, serialization.BestAvailableEncryption(b"pw")))
    check = check_certificate(p12, "pw", institution_code="99350017", institution_name="햇살가정의원(가상)",
                              founder="한가상")
    assert (check.status, check.matched_by) == ("match", ("founder (개설자) name",))
