"""Does the signing certificate belong to the institution the bundle is labelled with?

A Korean clinic signs with a 공동인증서 (or a .p12 exported from one). Its subject names the holder in
the CN (``햇살가정의원(한가상)0041234…``, ``한가상()0010041200805301234567`` for the founder's personal
certificate), sometimes in O/OU, and business certificates carry the 사업자등록번호 (10 digits,
``123-45-67890``); institution certificates may carry the 요양기관기호 (8 digits). The check compares
what the certificate carries with the institution the export labels the bundle with:

1. an 8-digit number (요양기관기호) or a 10-digit 사업자등록번호 in the subject decides, when the export
   knows the matching value: equal → match, different → mismatch (another institution's certificate);
2. otherwise the name: the institution's name inside a subject value, or the founder (개설자) as the
   CN's holder name (the founder's personal certificate) → match; a name that is neither → mismatch;
3. a subject that carries nothing comparable → "unknown" (allowed; recorded in the bag).

A mismatch stops the export (:class:`~emr_exporter.errors.SignerMismatchError`) unless the operator
overrides it; the outcome, override or not, is recorded in the bag (``report/signer-check.json`` and
the ``Signer-Check`` line of bag-info.txt). Subjects name institutions, never patients: they may be shown.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID

from emr_exporter import model
from emr_exporter.errors import SignerMismatchError

#: Subject attributes that can name the holder (CN, O, OU, serialNumber, organizationIdentifier).
_NAME_ATTRIBUTES = (
    NameOID.COMMON_NAME,
    NameOID.ORGANIZATION_NAME,
    NameOID.ORGANIZATIONAL_UNIT_NAME,
    NameOID.SERIAL_NUMBER,
    x509.ObjectIdentifier("2.5.4.97"),  # organizationIdentifier
)
#: OUs that name the CA's customer category or bank, not the holder (yessign, crosscert, signkorea…).
_CA_WORDS = re.compile(
    r"^(personal\w*|corporation\w*|corp\w*|business\w*|licensedca|yessign|signkorea|crosscert|kica|"
    r"tradesign|ktnet|gpki|npki|demo|test|demo only|[a-z]{2,6}bank|kb|ibk|nh|shinhan|woori|hana|\d+)$",
    re.IGNORECASE,
)
_CODE = re.compile(r"(?<!\d)(\d{8})(?!\d)")  # 요양기관기호: exactly 8 digits
_BUSINESS = re.compile(r"(?<!\d)(\d{3})-?(\d{2})-?(\d{5})(?!\d)")  # 사업자등록번호
_SERIAL_TAIL = re.compile(r"(\([^()]*\))?\d{10,}$")  # "(대표자)" and the CA's serial after the name
_PARENS = re.compile(r"\([^()]*\)")


def _norm(text: str) -> str:
    """Compare names without spaces, punctuation, width or case differences."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in text if ch.isalnum())


@dataclass(frozen=True)
class CertificateHolder:
    """What a signing certificate says about its holder."""

    subject: str
    names: tuple[str, ...]  # subject values that may name the holder (CN without the CA serial, O, OU)
    holder_name: str  # the CN's name part ("한가상" from "한가상()0010041200805301234567")
    institution_codes: tuple[str, ...]  # 8-digit numbers: 요양기관기호
    business_numbers: tuple[str, ...]  # 10-digit numbers: 사업자등록번호 (digits only)


@dataclass(frozen=True)
class SignerCheck:
    """The outcome: ``status`` is "match", "mismatch" or "unknown"; ``evidence`` says why (no PHI)."""

    status: str
    evidence: str
    subject: str
    institution_code: str
    institution_name: str
    overridden: bool = False
    matched_by: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return self.status != "mismatch" or self.overridden

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "overridden": self.overridden,
            "matched_by": list(self.matched_by),
            "evidence": self.evidence,
            "certificate_subject": self.subject,
            "institution": {"code": self.institution_code, "name": self.institution_name},
        }

    def bag_info_value(self) -> str:
        """The one-line ``Signer-Check`` entry of bag-info.txt."""
        if self.status == "mismatch":
            return "mismatch accepted by the operator (override); see data/report/signer-check.json"
        if self.status == "match":
            return "match by " + ", ".join(self.matched_by)
        return "unknown (the certificate names no institution to compare)"

    def report_member(self) -> tuple[str, bytes]:
        data = json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True, indent=1) + "\n"
        return "report/signer-check.json", data.encode("utf-8")

    def korean(self) -> str:
        """The founder's sentence (the wizard shows this)."""
        if self.status == "match":
            return "인증서가 이 의료기관의 것임을 확인했습니다."
        if self.status == "unknown":
            return "인증서에 기관 정보가 없어 대조하지 못했습니다. 기관의 인증서가 맞는지 확인하세요."
        return (
            "선택한 인증서는 다른 기관의 것으로 보입니다. 이 의료기관(요양기관기호 "
            f"{self.institution_code})의 인증서를 선택하세요."
        )


def certificate_holder(certificate: x509.Certificate) -> CertificateHolder:
    names: list[str] = []
    holder = ""
    codes: list[str] = []
    businesses: list[str] = []
    for oid in _NAME_ATTRIBUTES:
        for attribute in certificate.subject.get_attributes_for_oid(oid):
            value = attribute.value if isinstance(attribute.value, str) else attribute.value.decode("latin-1")
            codes.extend(_CODE.findall(value))
            businesses.extend("".join(m) for m in _BUSINESS.findall(value))
            if oid == NameOID.SERIAL_NUMBER or _CA_WORDS.match(value.strip()):
                continue
            name = _SERIAL_TAIL.sub("", value).strip() if oid == NameOID.COMMON_NAME else value.strip()
            if oid == NameOID.COMMON_NAME and not holder:
                holder = _PARENS.sub("", name).strip()
            if name:
                names.append(name)
    # A 10-digit business number also matches the 8-digit pattern nowhere (digit-bounded), but a
    # formatted one (123-45-67890) has none either: nothing to de-duplicate.
    return CertificateHolder(
        subject=certificate.subject.rfc4514_string(),
        names=tuple(dict.fromkeys(names)),
        holder_name=holder,
        institution_codes=tuple(dict.fromkeys(codes)),
        business_numbers=tuple(dict.fromkeys(businesses)),
    )


def check_signer(
    certificate: x509.Certificate,
    institution: model.Institution,
    *,
    business_number: str | None = None,
) -> SignerCheck:
    """Compare the certificate's holder with the institution (see the module docstring)."""
    holder = certificate_holder(certificate)

    def result(status: str, evidence: str, matched_by: tuple[str, ...] = ()) -> SignerCheck:
        return SignerCheck(
            status=status, evidence=evidence, subject=holder.subject, institution_code=institution.code,
            institution_name=institution.name, matched_by=matched_by,
        )

    matched: list[str] = []
    if holder.institution_codes:
        if institution.code in holder.institution_codes:
            matched.append("요양기관기호")
        else:
            return result(
                "mismatch",
                f"the certificate carries 요양기관기호 {', '.join(holder.institution_codes)}, the bundle is "
                f"labelled {institution.code}",
            )
    wanted_business = re.sub(r"\D", "", business_number or "")
    if holder.business_numbers and wanted_business:
        if wanted_business in holder.business_numbers:
            matched.append("사업자등록번호")
        else:
            return result(
                "mismatch",
                "the certificate carries 사업자등록번호 "
                + ", ".join(f"{b[:3]}-{b[3:5]}-{b[5:]}" for b in holder.business_numbers)
                + f", the institution's is {wanted_business[:3]}-{wanted_business[3:5]}-{wanted_business[5:]}",
            )
    # "햇살가정의원(가상)" is also found as "햇살가정의원": a parenthesised remark is not the name.
    wanted_names = {n for n in (_norm(institution.name), _norm(_PARENS.sub("", institution.name))) if len(n) >= 2}
    if any(wanted in _norm(name) for wanted in wanted_names for name in holder.names):
        matched.append("name")
    elif institution.founder and holder.holder_name and _norm(holder.holder_name) == _norm(institution.founder):
        matched.append("founder (개설자) name")
    if matched:
        return result("match", f"the certificate's {' and '.join(matched)} match the institution", tuple(matched))
    if holder.names:
        return result(
            "mismatch",
            f"the certificate names {', '.join(repr(n) for n in holder.names)}, not the institution "
            f"'{institution.name}'"
            + (f" or its founder (개설자) '{institution.founder}'" if institution.founder else ""),
        )
    return result("unknown", "the certificate's subject names no institution, founder or number to compare")


def enforce_signer(
    certificate: x509.Certificate,
    institution: model.Institution,
    *,
    business_number: str | None = None,
    allow_mismatch: bool = False,
) -> SignerCheck:
    """:func:`check_signer`, raising :class:`SignerMismatchError` on a mismatch unless overridden."""
    check = check_signer(certificate, institution, business_number=business_number)
    if check.status != "mismatch":
        return check
    if allow_mismatch:
        return SignerCheck(
            status=check.status, evidence=check.evidence, subject=check.subject,
            institution_code=check.institution_code, institution_name=check.institution_name, overridden=True,
        )
    raise SignerMismatchError(
        f"The signing certificate '{check.subject}' does not belong to the institution the bundle is "
        f"labelled with ({institution.code} {institution.name}): {check.evidence}. Use this institution's "
        "own certificate (공동인증서), or correct --institution-code/--institution-name. If the certificate "
        "is right (e.g. the founder's own certificate under another name), run again with "
        "--accept-signer-mismatch; the override is recorded in the bundle.",
        check=check,
    )


def no_summary(record: model.Record) -> None:
    """An observer's summary of a record for an observer that reads no record (module-level: a worker
    process runs it by name)."""
    return None


class SignerCheckReport:
    """An export observer that only adds ``report/signer-check.json`` to the bag."""

    #: It reads no record: the export's workers need not send records back for it (pipeline/export.py).
    summarise = staticmethod(no_summary)

    def __init__(self, check: SignerCheck) -> None:
        self.check = check

    def observe(self, record: model.Record) -> None:
        pass

    def observe_summary(self, summary: Any) -> None:
        pass

    def report_members(self) -> list[tuple[str, bytes]]:
        return [self.check.report_member()]
