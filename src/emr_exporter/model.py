"""The canonical model: what a Korean clinic keeps, independent of any EMR product.

Connectors turn source rows into these records; the FHIR mapper turns these records into FHIR R4
(KR Core) resources. Every record carries

* ``id``: a deterministic identifier (:func:`record_id` of connector, source table and source key), so
  re-exports and resumes are idempotent and references between records are stable;
* ``provenance``: where the row came from (source table and key), kept in the output;
* ``retention``: the retention class of Medical Service Act enforcement rule art. 15(1).

Text is kept exactly as recorded (decoded to Unicode NFC); codes are kept as recorded, never re-mapped.
Resident registration numbers (RRN) live only in :attr:`Patient.rrn`; they are masked by
:func:`mask_rrn` wherever a person can see them and never reach a log or an error message.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import functools
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, cast

#: Korean Standard Time (+09:00, no daylight saving since 1988): the dates a founder reads (a file's name, a
#: certificate's validity, a receipt number) are the dates in Korea, not UTC's (09:00 KST is 00:00 UTC).
KST = dt.timezone(dt.timedelta(hours=9), "KST")


class PartialDate(dt.date):
    """A date the source records to its year or month only ("2019", "2019.03": 발현 연도, a vaccination the
    patient remembers by year): as a date it is the first day of that year or month (for ordering and ranges),
    but it writes itself as what was recorded (``isoformat()`` "2019", "2019-03": FHIR's partial date), so
    no day or month is invented."""

    __slots__ = ("precision",)
    precision: str  # "year" | "month"

    def __new__(cls, year: int, month: int = 1, precision: str = "year") -> PartialDate:
        if precision not in ("year", "month"):
            raise ValueError("a partial date is known to its year or month")
        self = super().__new__(cls, year, month if precision == "month" else 1, 1)
        object.__setattr__(self, "precision", precision)
        return self

    def isoformat(self) -> str:
        return f"{self.year:04d}" if self.precision == "year" else f"{self.year:04d}-{self.month:02d}"

    __str__ = isoformat

    def __repr__(self) -> str:
        return f"PartialDate({self.isoformat()!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (PartialDate, (self.year, self.month, self.precision))

    def _day(self) -> dt.date:
        return dt.date(self.year, self.month, self.day)

    # Arithmetic and replace() give a whole date: a day moved or set is a day, no longer a year or month.
    def __add__(self, other: dt.timedelta) -> dt.date:  # type: ignore[override]
        return self._day() + other

    def __radd__(self, other: dt.timedelta) -> dt.date:  # type: ignore[override]
        return self._day() + other

    def __sub__(self, other: Any) -> Any:
        return self._day() - other

    def replace(self, *args: Any, **kwargs: Any) -> dt.date:  # type: ignore[override]
        return self._day().replace(*args, **kwargs)


class RetentionClass(enum.Enum):
    """Retention classes of the enforcement rule art. 15(1), with their minimum years."""

    PATIENT_ROSTER = ("patient-roster", 5)  # 환자 명부
    MEDICAL_RECORD = ("medical-record", 10)  # 진료기록부
    PRESCRIPTION = ("prescription", 2)  # 처방전
    OPERATION_RECORD = ("operation-record", 10)  # 수술기록
    TEST_RECORD = ("test-record", 5)  # 검사내용 및 검사소견기록
    IMAGING = ("imaging", 5)  # 방사선 사진(영상물 포함) 및 그 소견서
    NURSING_RECORD = ("nursing-record", 5)  # 간호기록부
    CERTIFICATE_COPY = ("certificate-copy", 3)  # 진단서 등의 부본
    # Not in art. 15: claims documents kept under the NHI Act (5 years; see korea.md §3.2, unverified).
    CLAIMS_DOCUMENT = ("claims-document", 5)

    def __init__(self, slug: str, years: int) -> None:
        self.slug = slug
        self.years = years


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a record came from in the clinic database."""

    connector: str
    table: str
    key: str


_SET_CONNECTOR = Provenance.__dict__["connector"].__set__
_SET_TABLE = Provenance.__dict__["table"].__set__
_SET_KEY = Provenance.__dict__["key"].__set__


def new_provenance(connector: str, table: str, key: str) -> Provenance:
    """``Provenance(connector, table, key)`` by the slots' own setters (as :func:`record_maker` builds a
    record): the frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``, ~1 µs a
    source row more. The same object (tests/test_fhir_fast.py)."""
    provenance: Provenance = object.__new__(Provenance)
    _SET_CONNECTOR(provenance, connector)
    _SET_TABLE(provenance, table)
    _SET_KEY(provenance, key)
    return provenance


#: Canonical entities written as one FHIR resource type (pipeline/fhir.py RESOURCE_TYPES): two sections of one table
#: among them give their records ids of their own (EntitySpec.id_table), as two sections of one entity do, or a
#: check-up row's lab value (lab_result) and its vital signs (vital_signs) were two Observations under one id.
SAME_RESOURCE: tuple[frozenset[str], ...] = (frozenset({"lab_result", "vital_signs"}),
                                             frozenset({"chart_note", "certificate", "attachment"}),
                                             frozenset({"imaging_report", "lab_report"}))


def record_id(connector: str, table: str, key: str) -> str:
    """Deterministic id of the record from ``table`` row ``key`` read by ``connector``.

    32 lowercase hex characters (128 bits of SHA-256): a valid FHIR id, the same on every run.
    """
    return record_id_after(record_id_prefix(connector, table), key)


def record_id_prefix(connector: str, table: str) -> bytes:
    """The constant part of every :func:`record_id` of one table (the mapper encodes it once per entity)."""
    return f"{connector}\x1f{table}\x1f".encode()


def record_id_after(prefix: bytes, key: str) -> str:
    """:func:`record_id` from its table's :func:`record_id_prefix`: the one place the id is hashed."""
    return hashlib.sha256(prefix + key.encode()).hexdigest()[:32]


def mask_rrn(rrn: str | None) -> str:
    """Mask a resident registration number for display: ``800101-1******``."""
    if not rrn:
        return ""
    digits = rrn.replace("-", "")
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:6]}-{digits[6]}******"


_RRN_LIKE = re.compile(r"(\d{6})-?([1-8])\d{6}")


def display_key(key: str) -> str:
    """A source key as shown to a person: a key that looks like an RRN is masked (legacy EMRs key by it)."""
    return _RRN_LIKE.sub(lambda m: f"{m.group(1)}-{m.group(2)}******", key)


#: The words a Korean EMR writes in a status or code column (진료완료, 수납대기중, 취소(환불)): a Hangul run of a
#: value is shown only when it is made of these alone. A name is three syllables no rule of shape can tell from a
#: word (김철수 passed "at most five Hangul syllables"); a status written in other words is counted, not shown.
#: Left: a two-syllable name that is also one of these words (a 전원, a 방문) is shown as the word it spells.
_STATUS_MORPHEMES = (
    "예약", "접수", "내원", "방문", "진료", "진찰", "진행", "완료", "취소", "보류", "대기", "수납", "수진", "처방",
    "처치", "검사", "시술", "치료", "수술", "상담", "입원", "퇴원", "귀가", "전원", "외래", "응급", "재진", "초진",
    "삭제", "종결", "종료", "중지", "중단", "재개", "정지", "미수", "완납", "미납", "환불", "청구", "심사", "반송",
    "반려", "승인", "확인", "처리", "결과", "보고", "판독", "촬영", "계획", "예정", "시행", "실시", "오류", "입력",
    "임시", "저장", "작성", "등록", "해지", "변경", "정상", "유효", "무효", "만료", "사용", "활성", "발행", "발급",
    "출력", "신청", "요청", "불가", "가능", "부재", "노쇼", "오입력", "가접수",
    # a booking's (authoring/scaffold.py _BOOKING_STATUS_WORDS: 부도, 예약부도, 불참, 확정, 예약확정)
    "부도", "불참", "확정",
)
#: A word may take a prefix (미확인, 재접수, 비활성) and a suffix (진료중, 삭제됨, 수납전, 퇴원후); a syllable alone is
#: never a status (오, 전, 차 are surnames; 정상미 a name).
_SHOWABLE_HANGUL = re.compile("(?:(?:미|재|비)?(?:" + "|".join(sorted(_STATUS_MORPHEMES, key=len, reverse=True))
                              + ")(?:중|됨|전|후)?)+")
#: The syllables Korean surnames are written with (those of some 10,000 people or more, 2015 census): a Hangul run of
#: two syllables, a status word, whose first is one of them is also a name (전원, 정상, 방문, 유효, 임시, 오류, 진료,
#: 노쇼: 전 원, 정 상 …), never shown; a longer run (진료완료, 진행중) or one of another first syllable (취소, 완료,
#: 보류, 예약, 접수, 대기) is.
_SURNAME_SYLLABLES = frozenset(
    "김이박최정강조윤장임한오서신권황안송류유전홍고문양손배백허남심노하곽성차주우구민진나지엄채원천방공현함변염여추"
    "도소석선설마길연위표명기반왕금옥육인맹제모탁국어은편용")
#: The Latin words a status, code or unit column is written with, in lower case: the English status words of
#: every EMR the scaffold reads (authoring/scaffold.py _STATUS_WORDS, _DELETED_WORDS, _KEPT_WORDS; a test keeps them
#: in here), the FHIR statuses of :data:`STATUS_VALUES` (added below), yes/no flags, departments and units. A run of
#: two Latin letters or more that is none of them (``KIM``, ``Smith``, ``JOHN``, ``Lee``) may be a person's name,
#: never shown; one letter (``Y``, ``A/B/C``) or letters beside a digit (``J20.9``, ``AA157``, ``3T``) are a code's.
#: No word here is a romanized Korean surname (``No``, ``Na``, ``Do``, ``Oh``, ``An``, ``In``, ``On``, ``Ok``,
#: ``Min``, ``Sun``): ``in``/``on``/``not``/``of`` only between the other words of one value (``in-progress``).
_LATIN_WORDS = frozenset({
    # statuses (the scaffold's, one word each)
    "plan", "planned", "scheduled", "booked", "reserved", "arrived", "checked", "check", "checkin", "checkout",
    "waiting", "wait", "progress", "inprogress", "ongoing", "started", "open", "opened", "done", "completed",
    "complete", "finished", "finish", "closed", "close", "out", "approved", "signed", "cancelled", "canceled",
    "cancel", "draft", "entered", "error", "deleted", "delete", "void", "voided", "hidden", "removed", "normal",
    "active", "inactive", "live",
    # and more of what a status column says
    "pending", "hold", "onhold", "paid", "unpaid", "refund", "refunded", "new", "visit", "visited", "discharged",
    "admitted", "transfer", "transferred", "stop", "stopped", "reject", "rejected", "confirmed", "unconfirmed",
    "ready", "yes", "true", "false", "null", "none", "unknown", "invalid", "valid", "expired", "suspended", "issued",
    "printed", "sent", "received", "read", "unread",
    # a booking's (no-show, confirm, wait-list: authoring/scaffold.py _BOOKING_STATUS_WORDS)
    "show", "confirm", "list",
    # departments and visit kinds, units
    "opd", "ipd", "er", "icu", "dc", "mg", "mcg", "ug", "kg", "dl", "ml", "cc", "mm", "cm", "mmhg", "bpm", "iu",
    "meq", "mmol", "umol", "pg", "hr", "hrs", "sec", "tab", "cap", "amp", "vial", "bid", "tid", "qid", "qd", "prn",
    "po", "iv", "sc", "od", "os", "ou",
})
#: Words that join two of :data:`_LATIN_WORDS` in one value (``in-progress``, ``on-hold``, ``not-done``,
#: ``entered-in-error``, ``no-show``), never shown alone: each is a surname as well (In, On, No) or no status by itself.
_LATIN_JOINING = frozenset({"in", "on", "not", "of", "to", "no"})
_LATIN_RUNS = re.compile(r"[A-Za-z]+")
#: A value that may be a code is at most this many characters, each printable ASCII (no blank) or Hangul, with no
#: run of digits longer than a code's (a longer one is a telephone number, an RRN, a date).
_SHOWABLE_LENGTH = 16
_SHOWABLE_CHARS = re.compile(r"[!-~\uac00-\ud7a3]*")
_LONG_DIGITS = re.compile(r"[0-9]{5,}")
_HANGUL_RUNS = re.compile(r"[\uac00-\ud7a3]+")


def may_show(value: str) -> bool:
    """May a value read from the clinic's database be shown as it is (a terminal, a log, a report, a file written
    outside the sealed bundle)? Only when it looks like a code or a status word: at most 16 characters, printable
    ASCII without blanks or Hangul, no run of more than 4 digits, every run of Hangul made of the words of
    :data:`_STATUS_MORPHEMES` (보류, 수납대기중, 취소(환불)). A name (김철수), a telephone number, an RRN, a memo, Hanja
    (金患者) is never shown: the one test every place that names a database value goes through."""
    return (len(value) <= _SHOWABLE_LENGTH and _SHOWABLE_CHARS.fullmatch(value) is not None
            and _LONG_DIGITS.search(value) is None
            and all(_SHOWABLE_HANGUL.fullmatch(run) and not (len(run) == 2 and run[0] in _SURNAME_SYLLABLES)
                    for run in _HANGUL_RUNS.findall(value))
            and _latin_shown(value))


def _latin_shown(value: str) -> bool:
    """Whether every run of Latin letters of ``value`` is a code's or a word of :data:`_LATIN_WORDS` (a joining word
    only beside one of them): ``Y``, ``J20.9``, ``mg/dL``, ``DONE``, ``in-progress``, not ``KIM``, ``Smith``."""
    words = []
    for run in _LATIN_RUNS.finditer(value):
        start, end = run.span()
        if end - start == 1 or (start and value[start - 1].isdigit()) or (end < len(value) and value[end].isdigit()):
            continue  # one letter (Y, A/B/C, D/C), or letters beside a digit (J20.9, AA157, 3T): a code's
        words.append(run.group().lower())
    return all(w in _LATIN_WORDS or w in _LATIN_JOINING for w in words) and (
        not words or any(w in _LATIN_WORDS for w in words))


def shown_value(value: str) -> str:
    """A database value as a person is shown it: quoted where :func:`may_show`, else only its length."""
    return repr(value) if may_show(value) else f"(text of {len(value)} characters, not shown)"


def mask_name(name: str) -> str:
    """A patient's name as a person is shown it: 김민준 → 김*준, 이서 → 이*; no more than the first and last
    characters."""
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_chart_number(key: str) -> str:
    """A chart number (환자등록번호) on paper: enough to find the chart, not enough to name the patient
    (``C000123`` -> ``C0***23``; a key that looks like an RRN is masked as one first)."""
    shown = display_key(key)
    if shown != key:
        return shown
    if len(key) <= 4:
        return key[:1] + "*" * (len(key) - 1)
    return key[:2] + "*" * (len(key) - 4) + key[-2:]


# --- records -------------------------------------------------------------------------------------

#: Record status as the source EMR kept it (the optional ``status`` field of clinical records): None (or "",
#: what a connector's status map gives a deletion flag's 'N') is an ordinary record; "inactive" is no longer
#: current (a resolved problem, a stopped drug); and
#: "entered-in-error" was deleted or marked erroneous in the EMR but is exported, never dropped.
RECORD_STATUSES: frozenset[str] = frozenset({"inactive", "entered-in-error"})

#: Every status a record of each entity may carry (FHIR value-set codes of its resource, plus the
#: generic RECORD_STATUSES). A source status the connector cannot map to one of these is kept verbatim
#: in ``recorded_status`` with ``status`` left None; the FHIR mapper then writes ``unknown`` where the
#: resource's value set has it (and counts it), else the row is quarantined with its raw values.
STATUS_VALUES: dict[str, frozenset[str]] = {
    "encounter": frozenset({"planned", "arrived", "in-progress", "finished", "cancelled", "entered-in-error"}),
    "diagnosis": RECORD_STATUSES | {"active", "recurrence", "relapse", "remission", "resolved"},
    "chart_note": RECORD_STATUSES,
    "order_line": RECORD_STATUSES | {"active", "on-hold", "stopped", "completed", "cancelled", "draft"},
    "procedure": RECORD_STATUSES | {"preparation", "in-progress", "not-done", "on-hold", "stopped", "completed"},
    "lab_result": RECORD_STATUSES
    | {"registered", "preliminary", "final", "amended", "corrected", "cancelled"},
    "receipt": RECORD_STATUSES | {"draft", "issued", "balanced", "cancelled"},
    "fee_line": RECORD_STATUSES,
    "attachment": RECORD_STATUSES,
    "allergy": RECORD_STATUSES | {"active", "resolved"},  # a source status is the clinical status
    "immunization": frozenset({"completed", "not-done", "entered-in-error"}),
    "vital_signs": frozenset({"registered", "preliminary", "final", "amended", "corrected", "cancelled",
                              "entered-in-error"}),
    "coverage": frozenset({"active", "cancelled", "draft", "entered-in-error"}),
    "medication_statement": frozenset({"active", "completed", "entered-in-error", "intended", "stopped", "on-hold",
                                       "not-taken"}),
    "lab_report": frozenset({"registered", "partial", "preliminary", "final", "amended", "corrected", "appended",
                             "cancelled", "entered-in-error"}),
    # PaymentReconciliation.status (FinancialResourceStatusCodes), as Coverage's
    "payment": frozenset({"active", "cancelled", "draft", "entered-in-error"}),
    # Appointment.status (AppointmentStatus): a booking, never a visit
    "appointment": frozenset({"proposed", "pending", "booked", "arrived", "fulfilled", "cancelled", "noshow",
                              "entered-in-error", "checked-in", "waitlist"}),
}
# every FHIR status a column may hold as written (completed, entered-in-error, on-hold): its words may be shown
_LATIN_WORDS |= {w for values in STATUS_VALUES.values() for v in values for w in v.split("-")} - _LATIN_JOINING
#: The statuses saying a visit, treatment or order did not (yet) happen: planned or cancelled, in preparation, not
#: done, a draft. Such a record is exported with its status, never dropped, but no document says it was given
#: (통원확인서, 진료확인서: reports/preview.py; readiness).
NOT_DONE_STATUSES = frozenset({"planned", "cancelled", "preparation", "not-done", "draft"})
ALLERGY_CLINICAL_STATUSES = frozenset({"active", "inactive", "resolved"})
ALLERGY_VERIFICATION_STATUSES = frozenset({"unconfirmed", "confirmed", "refuted", "entered-in-error"})
CONDITION_VERIFICATION_STATUSES = frozenset(
    {"unconfirmed", "provisional", "differential", "confirmed", "refuted", "entered-in-error"}
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Institution:
    """The clinic (요양기관). One per export."""

    code: str  # 요양기관기호, 8 digits
    name: str
    address: str | None = None
    phone: str | None = None
    kind: str | None = None  # 요양종별, e.g. 의원
    departments: tuple[str, ...] = ()
    founder: str | None = None  # 개설자


@dataclass(frozen=True, slots=True, kw_only=True)
class Practitioner:
    id: str
    provenance: Provenance
    name: str
    licence_kind: str | None = None  # 의사, 치과의사, 한의사, 간호사 …
    licence_number: str | None = None
    department: str | None = None
    retention: RetentionClass = RetentionClass.MEDICAL_RECORD


@dataclass(frozen=True, slots=True, kw_only=True)
class Patient:
    id: str
    provenance: Provenance
    chart_number: str  # 환자등록번호
    name: str
    sex: str | None = None  # FHIR administrative gender: male | female | other | unknown
    birth_date: dt.date | None = None
    rrn: str | None = None  # 주민등록번호 / 외국인등록번호, digits with a hyphen; only inside the bundle
    rrn_missing_reason: str | None = None
    address: str | None = None
    phone: str | None = None
    first_visit: dt.date | None = None
    #: the EMR's own flag that the patient died (FHIR deceasedBoolean), and the date or time of death
    #: (deceasedDateTime, which FHIR gives instead of the flag when both are known)
    deceased: bool | None = None
    death_date: dt.date | dt.datetime | None = None
    #: False for a record the EMR no longer uses (voided, merged into another): exported with active = false
    active: bool | None = None
    #: 환자 통합: the chart this one was merged into, as the source records it (the surviving patient's chart
    #: number or key: a ``merged_into`` / ``MERGE_PT_NO`` column, or a merge table read by an ``expr``)
    merged_into: str | None = None
    #: Filled in by the export, never by a connector (it resolves ``merged_into`` over the whole patient table):
    #: the surviving Patient's id (FHIR ``link`` replaced-by; the record is then exported with active = false)
    replaced_by: str | None = None
    #: ... and on the survivor, the ids of the charts merged into it (FHIR ``link`` replaces)
    replaces: tuple[str, ...] = ()
    retention: RetentionClass = RetentionClass.PATIENT_ROSTER


@dataclass(frozen=True, slots=True, kw_only=True)
class Encounter:
    id: str
    provenance: Provenance
    patient_id: str
    start: dt.date | dt.datetime
    kind: str = "outpatient"  # outpatient | inpatient
    end: dt.date | dt.datetime | None = None  # discharge date for inpatient stays
    practitioner_id: str | None = None
    department: str | None = None
    payer_type: str | None = None  # 건강보험 | 의료급여 | 자보 | 산재 | 일반 (as recorded)
    night_or_holiday: bool = False
    reason: str | None = None  # chief complaint of the visit (주소증), verbatim
    admitted_from: str | None = None  # inpatient: admission route as recorded (외래, 응급실, 전원 …)
    # inpatient: HL7 discharge-disposition code (home, other-hcf, aadvice, exp …) or the text as recorded
    discharge_disposition: str | None = None
    status: str | None = None  # None: finished (the clinic is closed); see STATUS_VALUES
    recorded_status: str | None = None
    retention: RetentionClass = RetentionClass.MEDICAL_RECORD


@dataclass(frozen=True, slots=True, kw_only=True)
class Diagnosis:
    id: str
    provenance: Provenance
    patient_id: str
    encounter_id: str | None = None
    # as recorded; None: a diagnosis written only as text (OpenMRS diagnosis_non_coded): FHIR's Condition.code is a
    # CodeableConcept that may hold its text alone, no code made up. One of code and text is required
    # (REQUIRED_ONE_OF): a row with neither is quarantined as required-missing.
    code: str | None = None
    kcd_edition: str | None = None  # "kcd-6" | "kcd-7" | "kcd-8" | "kcd-9", by service date
    text: str | None = None  # display text as recorded
    primary: bool = False
    onset: dt.date | None = None
    recorded: dt.date | None = None
    other_codes: tuple[str, ...] = ()  # further codes recorded with it, verbatim (e.g. "ICD10:R05")
    verification: str | None = None  # CONDITION_VERIFICATION_STATUSES (확진, 의증 …) when recorded
    status: str | None = None  # see RECORD_STATUSES / STATUS_VALUES
    recorded_status: str | None = None  # the source's own status text, verbatim
    teeth: str | None = None  # the teeth it concerns, FDI numbers as recorded ('11,12,21', '13-23'): fdi_teeth
    teeth_numbering: str | None = None  # TOOTH_NUMBERINGS: 'universal' where the connector says so; else FDI
    surfaces: str | None = None  # the tooth surfaces it concerns, as recorded ('MOD', 'DO', '근심'): tooth_surfaces
    eye: str | None = None  # the eye it concerns, as recorded ('R', 'OU', '좌안'): eye_side
    #: an entry of the patient's problem list (문제목록, 주요병력, 과거력, a health issue) rather than a visit's
    #: diagnosis: FHIR category problem-list-item; never read as a visit's diagnosis (진료사실확인서, 진단서)
    problem_list: bool = False
    abatement: dt.date | None = None  # when it resolved (해결일): Condition.abatementDateTime
    retention: RetentionClass = RetentionClass.MEDICAL_RECORD


@dataclass(frozen=True, slots=True, kw_only=True)
class ChartNote:
    """진료기록부 narrative: kept verbatim."""

    id: str
    provenance: Provenance
    patient_id: str
    encounter_id: str | None = None
    recorded: dt.date | dt.datetime
    author_id: str | None = None
    chief_complaint: str | None = None
    history: str | None = None
    course: str | None = None
    plan: str | None = None
    text: str | None = None  # one free-text note, for EMRs (memos) that keep no sections
    amends_id: str | None = None  # the record this one corrects (art. 22(2): keep both)
    nursing: bool = False  # a nursing record (간호기록부): kept 5 years, not 10
    status: str | None = None  # see RECORD_STATUSES / STATUS_VALUES
    recorded_status: str | None = None  # the source's own status text, verbatim
    retention: RetentionClass = RetentionClass.MEDICAL_RECORD

    def __post_init__(self) -> None:
        # Art. 15(1): 간호기록부 has its own class (5 years); the connector only says it is one.
        if self.nursing and self.retention is RetentionClass.MEDICAL_RECORD:
            object.__setattr__(self, "retention", RetentionClass.NURSING_RECORD)


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderLine:
    """An order or prescription line: drug, procedure or material."""

    id: str
    provenance: Provenance
    patient_id: str
    encounter_id: str | None = None
    ordered: dt.date
    local_code: str | None = None
    edi_code: str | None = None
    code_type: str | None = None  # drug | procedure | material (코드구분)
    name: str | None = None
    dose: Decimal | None = None
    dose_unit: str | None = None
    frequency: int | None = None  # times per day
    days: int | None = None
    route: str | None = None
    prescriber_id: str | None = None
    outside_prescription: bool = False  # 원외처방 (a 처방전 was issued)
    #: the prescription the line is one line of, as the source keys it (a 한약 처방's herb rows: its 처방번호):
    #: the lines of one prescription share it (MedicationRequest.groupIdentifier, ServiceRequest.requisition)
    group_id: str | None = None
    #: the table whose key ``group_id`` is (a herb row's: its prescription's table); None: the line's own table.
    #: Every line of one prescription must name the same one: the group's system names it
    group_table: str | None = None
    status: str | None = None  # see RECORD_STATUSES / STATUS_VALUES
    recorded_status: str | None = None  # the source's own status text, verbatim
    retention: RetentionClass = RetentionClass.PRESCRIPTION


@dataclass(frozen=True, slots=True, kw_only=True)
class ProcedureRecord:
    id: str
    provenance: Provenance
    patient_id: str
    encounter_id: str | None = None
    performed: dt.date
    edi_code: str | None = None
    name: str | None = None
    performer_id: str | None = None
    is_operation: bool = False
    status: str | None = None  # see RECORD_STATUSES / STATUS_VALUES
    recorded_status: str | None = None  # the source's own status text, verbatim
    teeth: str | None = None  # the teeth treated, FDI numbers as recorded ('11,12,21', '13-23'): fdi_teeth
    teeth_numbering: str | None = None  # TOOTH_NUMBERINGS: 'universal' where the connector says so; else FDI
    surfaces: str | None = None  # the tooth surfaces treated, as recorded ('MOD', 'DO', '근심'): tooth_surfaces
    retention: RetentionClass = RetentionClass.MEDICAL_RECORD

    def __post_init__(self) -> None:
        # Art. 15(1): 수술기록 is kept 10 years in its own class, whatever table it came from.
        if self.is_operation and self.retention is RetentionClass.MEDICAL_RECORD:
            object.__setattr__(self, "retention", RetentionClass.OPERATION_RECORD)


@dataclass(frozen=True, slots=True, kw_only=True)
class LabResult:
    id: str
    provenance: Provenance
    patient_id: str
    encounter_id: str | None = None
    observed: dt.date | dt.datetime
    code: str | None = None
    name: str | None = None
    #: The analyte's LOINC code where the source names the analyte, not codes it: a check-up row's lab column
    #: (GLU, TCHOL …; the scaffold's table of analytes, docs/fhir-mapping.md), a constant of its section
    loinc: str | None = None
    #: What kind of finding it is where it is no laboratory's (FHIR observation-category: ``exam``, ``imaging``,
    #: ``social-history``, ``survey``): a check-up row's hearing, chest X-ray reading, verdict or questionnaire
    #: answer, a constant of its section (docs/fhir-mapping.md, "A check-up row's other findings"); None: laboratory
    category: str | None = None
    #: The body site the finding is of, a SNOMED CT body structure (:data:`BODY_SITES`): a check-up row's hearing
    #: column of one ear (청력_우: the right ear), a constant of its section
    body_site: str | None = None
    value: str | None = None  # as recorded
    unit: str | None = None
    reference_range: str | None = None
    flag: str | None = None  # H | L | N | A as recorded
    status: str | None = None  # see RECORD_STATUSES / STATUS_VALUES
    recorded_status: str | None = None  # the source's own status text, verbatim
    #: The lab report (panel) the result belongs to: a reference to a lab_report record. FHIR R4 says it from
    #: the report's side (DiagnosticReport.result; an Observation has no element naming its report), so the
    #: export lists each report's results from these (see BACK_REFERENCES); the cell itself is carried raw.
    report_id: str | None = None
    #: An outside lab's result (수탁검사): the lab (수탁기관) as recorded, and when it reported the result.
    performer_name: str | None = None
    issued: dt.datetime | None = None
    retention: RetentionClass = RetentionClass.TEST_RECORD


@dataclass(frozen=True, slots=True, kw_only=True)
class ImagingReport:
    id: str
    provenance: Provenance
    patient_id: str
    encounter_id: str | None = None
    performed: dt.date
    modality: str | None = None
    edi_code: str | None = None
    text: str | None = None
    reader_id: str | None = None
    retention: RetentionClass = RetentionClass.IMAGING


@dataclass(frozen=True, slots=True, kw_only=True)
class Certificate:
    """A copy of an issued certificate (진단서 등의 부본), kept by type."""

    id: str
    provenance: Provenance
    patient_id: str
    encounter_id: str | None = None
    kind: str  # 진단서 | 상해진단서 | 소견서 | 진료확인서 | 통원확인서 | 입퇴원확인서 …
    number: str | None = None
    issued: dt.date
    doctor_id: str | None = None
    text: str | None = None
    retention: RetentionClass = RetentionClass.CERTIFICATE_COPY


@dataclass(frozen=True, slots=True, kw_only=True)
class Receipt:
    """진료비 계산서·영수증 (standard form, NHI benefit rules form 6)."""

    id: str
    provenance: Provenance
    patient_id: str
    encounter_id: str | None = None
    number: str | None = None  # 영수증번호 YYYYMM-serial
    issued: dt.date
    covered_patient: Decimal | None = None  # 급여 일부본인부담 본인부담금
    covered_insurer: Decimal | None = None  # 급여 일부본인부담 공단부담금
    covered_full_self: Decimal | None = None  # 급여 전액본인부담
    non_covered: Decimal | None = None  # 비급여
    total: Decimal | None = None  # 진료비 총액
    paid: Decimal | None = None  # 납부한 금액
    status: str | None = None  # see RECORD_STATUSES / STATUS_VALUES
    recorded_status: str | None = None  # the source's own status text, verbatim
    #: A refund or cancel receipt: the receipt it cancels (원영수증번호, 원수납번호: a reference to a receipt of the
    #: same section, by its key or a unique field), written as the Invoice's link to the cancelled Invoice.
    cancels_id: str | None = None
    retention: RetentionClass = RetentionClass.CLAIMS_DOCUMENT


@dataclass(frozen=True, slots=True, kw_only=True)
class FeeLine:
    """A line of the 진료비 세부산정내역."""

    id: str
    provenance: Provenance
    patient_id: str
    encounter_id: str | None = None
    receipt_id: str | None = None
    service_date: dt.date
    category: str | None = None  # 항목, e.g. 진찰료
    code: str | None = None  # EDI code as recorded
    name: str | None = None
    unit_price: Decimal | None = None
    count: Decimal | None = None
    days: int | None = None
    total: Decimal | None = None
    patient_share: Decimal | None = None
    insurer_share: Decimal | None = None
    non_covered: Decimal | None = None
    status: str | None = None  # see RECORD_STATUSES / STATUS_VALUES
    recorded_status: str | None = None  # the source's own status text, verbatim
    teeth: str | None = None  # a dental fee's teeth, FDI numbers as recorded ('11,12,21', '13-23'): fdi_teeth
    teeth_numbering: str | None = None  # TOOTH_NUMBERINGS: 'universal' where the connector says so; else FDI
    surfaces: str | None = None  # a dental fee's tooth surfaces, as recorded ('MOD', 'DO', '근심'): tooth_surfaces
    retention: RetentionClass = RetentionClass.CLAIMS_DOCUMENT


@dataclass(frozen=True, slots=True, kw_only=True)
class AttachmentContent:
    """Where an attachment's bytes are. Exactly one of ``blob`` and ``path`` is set."""

    blob: bytes | None = None
    path: str | None = None  # absolute, already checked to lie under the attachment root


@dataclass(frozen=True, slots=True, kw_only=True)
class Attachment:
    """A scan, PDF or image. The bytes go into the bag as data/attachments/<id>.<ext>."""

    id: str
    provenance: Provenance
    patient_id: str
    encounter_id: str | None = None
    created: dt.date
    media_type: str
    title: str | None = None
    content: AttachmentContent = field(default_factory=AttachmentContent)
    encrypted: bool = False  # the bytes are encrypted by the source EMR and carried as they are
    status: str | None = None  # see RECORD_STATUSES / STATUS_VALUES
    recorded_status: str | None = None  # the source's own status text, verbatim
    retention: RetentionClass = RetentionClass.MEDICAL_RECORD


# --- the rest of the clinical record: allergies, immunizations, vital signs, coverage, medication list,
# lab reports ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Allergy:
    """알레르기·부작용: an allergy or intolerance to a substance (usually a drug)."""

    id: str
    provenance: Provenance
    patient_id: str
    encounter_id: str | None = None
    substance: str  # the substance as recorded (약품명, 성분명, 음식 …)
    substance_code: str | None = None  # as recorded
    substance_system: str | None = None  # edi-medication | kd | atc | rxnorm | None: the clinic's own code
    category: str | None = None  # food | medication | environment | biologic
    kind: str | None = None  # allergy | intolerance
    criticality: str | None = None  # low | high | unable-to-assess
    clinical_status: str | None = None  # ALLERGY_CLINICAL_STATUSES
    verification_status: str | None = None  # ALLERGY_VERIFICATION_STATUSES
    reaction: str | None = None  # 증상, verbatim
    severity: str | None = None  # mild | moderate | severe
    onset: dt.date | None = None
    recorded: dt.date | None = None
    recorder_id: str | None = None
    note: str | None = None
    status: str | None = None  # see STATUS_VALUES["allergy"]
    recorded_status: str | None = None  # the source's own status text, verbatim
    retention: RetentionClass = RetentionClass.MEDICAL_RECORD


@dataclass(frozen=True, slots=True, kw_only=True)
class Immunization:
    """예방접종: given, or not given with its reason (거부, 금기 …)."""

    id: str
    provenance: Provenance
    patient_id: str
    encounter_id: str | None = None
    occurred: dt.date | dt.datetime
    vaccine_code: str | None = None  # as recorded
    vaccine_system: str | None = None  # kdca (KR Core 예방접종 유형) | cvx | kd | edi-medication | None: local
    vaccine_name: str | None = None
    #: 차수 as recorded: 2 (a number column), or the text "2", "2차", "추가" (a text column, kept as written)
    dose_number: str | int | None = None
    lot_number: str | None = None
    expiration: dt.date | None = None
    manufacturer: str | None = None
    site: str | None = None  # as recorded (좌측 삼각근 …)
    route: str | None = None  # as recorded (IM, SC …)
    dose: Decimal | None = None
    dose_unit: str | None = None
    performer_id: str | None = None
    #: False: not the clinic's own record of giving it (타기관 접종, from the patient's word or a 접종증명서);
    #: None: not recorded, the clinic's own record unless ``report_origin`` is.
    primary_source: bool | None = None
    report_origin: str | None = None  # where the report came from, as recorded (보건소, 타 병원, 본인 진술 …)
    status_reason: str | None = None  # why it was not given, verbatim
    status_reason_code: str | None = None  # v3-ActReason: PATOBJ | IMMUNE | MEDPREC | OSTOCK | VACEFF
    subpotent: bool = False  # only part of the dose was given (partially administered)
    status: str | None = None  # None: completed; see STATUS_VALUES["immunization"]
    recorded_status: str | None = None
    retention: RetentionClass = RetentionClass.MEDICAL_RECORD


#: Vital-sign measurements of a :class:`VitalSigns` set: field → (LOINC, display, slug). Blood pressure
#: is one measurement of two values (``systolic``/``diastolic``, unit ``bp_unit``).
VITAL_KINDS: dict[str, tuple[str, str, str]] = {
    "pulse": ("8867-4", "Heart rate", "pulse"),
    "respiration": ("9279-1", "Respiratory rate", "resp"),
    "temperature": ("8310-5", "Body temperature", "temp"),
    "weight": ("29463-7", "Body weight", "weight"),
    "height": ("8302-2", "Body height", "height"),
    "bmi": ("39156-5", "Body mass index (BMI) [Ratio]", "bmi"),
    "spo2": ("2708-6", "Oxygen saturation in Arterial blood", "spo2"),
    "waist": ("8280-0", "Waist Circumference at umbilicus by Tape measure", "waist"),
    "head": ("9843-4", "Head Occipital-frontal circumference", "head"),
}

#: Per-eye measurements of a :class:`VitalSigns` set (an eye clinic's 시력, 안압, 굴절): field → (LOINC or None where
#: no LOINC code names the measurement as recorded, display, slug, a number). Each is kept three ways: ``<kind>_right``
#: and ``<kind>_left`` (a visit row's per-eye columns, VA_OD / IOP_OS), and ``<kind>`` whose eye ``eye`` says (a
#: readings table of one row per eye). A number kind is a decimal (its text that is no number: ``absent``); visual
#: acuity is text as written (0.8, 'FC', 'HM', 'LP', '20/40'), never read as a number.
EYE_KINDS: dict[str, tuple[str | None, str, str, bool]] = {
    "iop": ("56844-4", "Intraocular pressure of Eye", "iop", True),
    "va": (None, "Visual acuity, uncorrected", "va", False),
    "va_corrected": (None, "Visual acuity, corrected", "vacc", False),
    "sphere": (None, "Refraction, sphere", "sph", True),
    "cylinder": (None, "Refraction, cylinder", "cyl", True),
    "axis": (None, "Refraction, axis", "axis", True),
}
#: The eye fields of a :class:`VitalSigns` set (the measurements of :data:`EYE_KINDS`, each eye's and the one ``eye``
#: names) → (kind, side: "right", "left" or None where ``eye`` says it).
EYE_FIELDS: dict[str, tuple[str, str | None]] = {
    f"{kind}{suffix}": (kind, side) for kind in EYE_KINDS
    for suffix, side in (("_right", "right"), ("_left", "left"), ("", None))}

#: What a side column writes for an eye (upper case, blanks removed) → right, left or both.
_EYE_WORDS: dict[str, str] = {
    **dict.fromkeys(("R", "RE", "OD", "RT", "RIGHT", "우", "우안", "오른쪽", "오른눈", "우측"), "right"),
    **dict.fromkeys(("L", "LE", "OS", "LT", "LEFT", "좌", "좌안", "왼쪽", "왼눈", "좌측"), "left"),
    **dict.fromkeys(("B", "BE", "OU", "BOTH", "양", "양안", "양측", "양쪽", "BILATERAL"), "both"),
}


#: The body sites a finding kept as a column of its own names (:attr:`LabResult.body_site`): SNOMED CT body
#: structure → display. Looked up, not recalled (docs/fhir-mapping.md): 25577004 right ear, 89644007 left ear.
BODY_SITES: dict[str, str] = {
    "25577004": "Right ear structure",
    "89644007": "Left ear structure",
}

#: The FHIR observation-category codes a finding may have (:attr:`LabResult.category`) → display
OBSERVATION_CATEGORIES: dict[str, str] = {
    "social-history": "Social History", "vital-signs": "Vital Signs", "imaging": "Imaging",
    "laboratory": "Laboratory", "procedure": "Procedure", "survey": "Survey", "exam": "Exam", "therapy": "Therapy",
    "activity": "Activity",
}


def eye_side(text: str) -> str | None:
    """The eye a side column names: ``'right'`` (R, OD, 우안), ``'left'`` (L, OS, 좌안), ``'both'`` (B, OU, 양안), else
    None (a number, an empty text, a word it does not know): nothing is guessed."""
    return _EYE_WORDS.get(re.sub(r"\s+", "", text).upper())


@dataclass(frozen=True, slots=True, kw_only=True)
class VitalSigns:
    """활력징후: one set of measurements taken together (one source row); each becomes its own Observation.

    Values as recorded (decimal), each with its unit as recorded (``<kind>_unit``); a unit that is not
    recorded stays absent, it is never assumed.
    """

    id: str
    provenance: Provenance
    patient_id: str
    encounter_id: str | None = None
    observed: dt.date | dt.datetime
    performer_id: str | None = None
    systolic: Decimal | None = None
    diastolic: Decimal | None = None
    bp_unit: str | None = None
    pulse: Decimal | None = None
    pulse_unit: str | None = None
    respiration: Decimal | None = None
    respiration_unit: str | None = None
    temperature: Decimal | None = None
    temperature_unit: str | None = None
    temperature_method: str | None = None
    weight: Decimal | None = None
    weight_unit: str | None = None
    height: Decimal | None = None
    height_unit: str | None = None
    bmi: Decimal | None = None
    bmi_unit: str | None = None
    bmi_status: str | None = None
    spo2: Decimal | None = None
    spo2_unit: str | None = None
    oxygen_flow_rate: Decimal | None = None  # L/min, with the SpO2 measurement
    inhaled_oxygen: Decimal | None = None  # %, with the SpO2 measurement
    waist: Decimal | None = None
    waist_unit: str | None = None
    head: Decimal | None = None
    head_unit: str | None = None
    #: an eye clinic's measurements (:data:`EYE_KINDS`): each eye's, and the one ``eye`` names (as recorded:
    #: 'R', 'OS', '좌안'; :func:`eye_side`)
    iop_right: Decimal | None = None
    iop_left: Decimal | None = None
    iop: Decimal | None = None
    iop_unit: str | None = None
    va_right: str | None = None
    va_left: str | None = None
    va: str | None = None
    va_corrected_right: str | None = None
    va_corrected_left: str | None = None
    va_corrected: str | None = None
    sphere_right: Decimal | None = None
    sphere_left: Decimal | None = None
    sphere: Decimal | None = None
    cylinder_right: Decimal | None = None
    cylinder_left: Decimal | None = None
    cylinder: Decimal | None = None
    axis_right: Decimal | None = None
    axis_left: Decimal | None = None
    axis: Decimal | None = None
    eye: str | None = None
    note: str | None = None
    status: str | None = None  # None: final; see STATUS_VALUES["vital_signs"]
    recorded_status: str | None = None
    #: Set by the export, never by a connector: the measurements recorded as no number ('측정 안 함', 'refused',
    #: '>200', 0), or, in a set whose every mapped measurement is NULL, each of them: (measurement field, the text
    #: as recorded, None where there was no text). Each becomes its Observation with ``dataAbsentReason``
    #: (docs/fhir-mapping.md).
    absent: tuple[tuple[str, str | None], ...] = ()
    retention: RetentionClass = RetentionClass.MEDICAL_RECORD


@dataclass(frozen=True, slots=True, kw_only=True)
class Coverage:
    """보험 자격: one period of the patient's coverage; a change of coverage is a new period (record)."""

    id: str
    provenance: Provenance
    patient_id: str
    payer_type: str  # 건강보험 | 의료급여 | 보훈 | 무료진료 | 자보 | 산재 | 일반 (as recorded)
    payer_class: str | None = None  # 의료급여 1종 / 2종, 직장 / 지역 … as recorded
    payer_name: str | None = None  # 국민건강보험공단, 보험사명 … as recorded
    insured_number: str | None = None  # 건강보험증번호 / 사고접수번호
    subscriber_name: str | None = None  # 피보험자(세대주)
    relationship: str | None = None  # HL7 subscriber-relationship code (self, spouse, child, parent, other) or text
    rank: int | None = None  # 1 primary, 2 secondary … when the patient has several at once
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    status: str | None = None  # None: active; see STATUS_VALUES["coverage"]
    recorded_status: str | None = None
    retention: RetentionClass = RetentionClass.CLAIMS_DOCUMENT


@dataclass(frozen=True, slots=True, kw_only=True)
class MedicationStatement:
    """복용 중인 약 (medication list): what the patient takes or took, not an order of this clinic."""

    id: str
    provenance: Provenance
    patient_id: str
    encounter_id: str | None = None
    name: str | None = None
    edi_code: str | None = None
    local_code: str | None = None
    dosage: str | None = None  # as recorded (1정 1일 1회 …)
    started: dt.date | None = None
    ended: dt.date | None = None
    recorded: dt.date | None = None
    informant_id: str | None = None
    note: str | None = None
    status: str | None = None  # None: unknown (not recorded); see STATUS_VALUES["medication_statement"]
    recorded_status: str | None = None
    retention: RetentionClass = RetentionClass.MEDICAL_RECORD


@dataclass(frozen=True, slots=True, kw_only=True)
class LabReport:
    """검사 보고서: a lab panel or report grouping its results (:class:`LabResult` ids)."""

    id: str
    provenance: Provenance
    patient_id: str
    encounter_id: str | None = None
    effective: dt.date | dt.datetime
    issued: dt.datetime | None = None
    code: str | None = None
    name: str | None = None
    result_ids: tuple[str, ...] = ()
    performer_id: str | None = None
    conclusion: str | None = None
    status: str | None = None  # None: final; see STATUS_VALUES["lab_report"]
    recorded_status: str | None = None
    retention: RetentionClass = RetentionClass.TEST_RECORD


#: How a payment was made (:attr:`Payment.method`): a small closed set; the source's own word stays in
#: ``method_text``. "cash-receipt" is cash for which a 현금영수증 was issued.
PAYMENT_METHODS: dict[str, str] = {
    "card": "카드", "cash": "현금", "cash-receipt": "현금영수증", "transfer": "계좌이체", "other": "기타",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Payment:
    """수납결제: one part of how a receipt was paid (a receipt paid by card and cash is two payments), or a
    refund or cancellation of one (a negative amount, or a status)."""

    id: str
    provenance: Provenance
    patient_id: str
    receipt_id: str | None = None  # the receipt (진료비 계산서·영수증) it pays
    paid: dt.date | dt.datetime  # 결제일시
    amount: Decimal  # negative: a refund or cancellation
    method: str | None = None  # PAYMENT_METHODS; None: read from method_text by the FHIR mapper
    method_text: str | None = None  # the source's own word for the method (카드, 현금, 계좌이체 …), verbatim
    approval_number: str | None = None  # 승인번호 (card, or the 현금영수증's)
    #: 현금영수증 number as recorded: its 승인번호, or the 신분확인번호 it was issued to (a phone, card or
    #: resident registration number). Kept only inside the bundle; masked wherever a person sees it (mask_id).
    cash_receipt_number: str | None = None
    status: str | None = None  # None: active; see STATUS_VALUES["payment"]
    recorded_status: str | None = None
    retention: RetentionClass = RetentionClass.CLAIMS_DOCUMENT


@dataclass(frozen=True, slots=True, kw_only=True)
class Appointment:
    """예약: a booking of a visit for a day and time, with its doctor and department. A booking is no visit: it
    is never an Encounter, and no document says care was given on its day (진료사실확인서 counts visits only)."""

    id: str
    provenance: Provenance
    patient_id: str
    #: 예약일시; a booking kept to its day only (a date column and no time) is a date: the whole of that day
    start: dt.date | dt.datetime
    end: dt.date | dt.datetime | None = None  # 예약 종료시각, where kept
    minutes: int | None = None  # 소요시간 in minutes, where kept (end = start + minutes where no end is)
    practitioner_id: str | None = None  # the doctor booked
    department: str | None = None  # 진료과 as recorded
    service_type: str | None = None  # what was booked (초진/재진, 검진, 상담 …) as recorded
    reason: str | None = None  # 예약사유, 내원목적 as recorded
    note: str | None = None  # 예약메모 as recorded
    created: dt.date | dt.datetime | None = None  # when the booking was made (예약등록일시)
    status: str | None = None  # None: booked; see STATUS_VALUES["appointment"]
    recorded_status: str | None = None  # the source's own status text, verbatim
    #: 환자 명부: an appointment book is no 진료기록부 (art. 15 keeps the roster of patients 5 years)
    retention: RetentionClass = RetentionClass.PATIENT_ROSTER


#: A tooth in FDI two-digit notation (ISO 3950), the one Korean dental charts use: a quadrant 1-4 (permanent teeth)
#: with a tooth 1-8, or 5-8 (deciduous) with a tooth 1-5.
_FDI_TOOTH = re.compile(r"#?([1-4][1-8]|[5-8][1-5])")
#: The arch a quadrant shares with the quadrant across the midline (upper right 1 / upper left 2, lower left 3 /
#: lower right 4; deciduous 5/6, 7/8): a range such as '13-23' (a bridge across the front teeth) crosses it.
_ACROSS_MIDLINE = {1: 2, 2: 1, 3: 4, 4: 3, 5: 6, 6: 5, 7: 8, 8: 7}
_TOOTH_RANGE = re.compile(r"\s*[-~～]\s*")
_TOOTH_SEPARATORS = re.compile(r"[,;/·、\s]+")


def _tooth_ranges(text: str, tooth: re.Pattern[str]) -> list[list[str]] | None:
    """A tooth column's parts, each a tooth or a range of two (``'#11-13, 21'`` → [11, 13], [21]) without its '#',
    or None where a part is no ``tooth``."""
    ranges: list[list[str]] = []
    for token in _TOOTH_SEPARATORS.split(_TOOTH_RANGE.sub("-", text.strip())):
        if not token:
            continue
        ends = token.split("-")
        if len(ends) > 2 or not all(tooth.fullmatch(end) for end in ends):
            return None
        ranges.append([end.lstrip("#") for end in ends])
    return ranges


def fdi_teeth(text: str) -> tuple[str, ...] | None:
    """The teeth a chart's tooth column names, each as its FDI two-digit number, in the order written: a list
    (``'11,12,21'``, ``'11 12'``, ``'#36'``), ranges within a quadrant or across the midline of one arch
    (``'11-13'`` → 11, 12, 13; ``'13-23'`` → 13, 12, 11, 21, 22, 23), each tooth once. None where the text is not
    wholly such a list (a tooth number FDI does not have, ``'19'``, ``'59'``; a word, ``'전악'``; a range across arches,
    ``'17-47'``; Universal numbering ``'3'``): nothing is guessed."""
    ranges = _tooth_ranges(text, _FDI_TOOTH)
    if ranges is None:
        return None
    found: list[str] = []
    for ends in ranges:
        first, last = (int(end) for end in (ends[0], ends[-1]))
        (q1, n1), (q2, n2) = divmod(first, 10), divmod(last, 10)
        if q1 == q2:
            step = 1 if n2 >= n1 else -1
            teeth = [q1 * 10 + n for n in range(n1, n2 + step, step)]
        elif _ACROSS_MIDLINE[q1] == q2:
            teeth = [q1 * 10 + n for n in range(n1, 0, -1)] + [q2 * 10 + n for n in range(1, n2 + 1)]
        else:
            return None
        found.extend(str(t) for t in teeth if str(t) not in found)
    return tuple(found) or None


#: A tooth in the Universal (ADA, US) numbering: 1-32 permanent (1 the upper right third molar round to 32 the lower
#: right one), A-T deciduous. Never read as FDI (11-18 and 21-28 are teeth in both, other teeth): fdi_teeth refuses
#: 1-10, 19, 20, 29-32 and letters; a column mostly so is Universal (the scaffold leaves such a column out).
_UNIVERSAL_TOOTH = re.compile(r"#?([1-9]|[12][0-9]|3[0-2]|[A-Ta-t])")


#: How a tooth column numbers teeth, as a connector says (``teeth_numbering = { value = "universal" }``): FDI (ISO
#: 3950, the default, Korean charts) or Universal (ADA, US). Never guessed from the values.
TOOTH_NUMBERINGS = ("fdi", "universal")
#: A Universal tooth → its FDI number: 1-8 the upper right (18 … 11), 9-16 the upper left (21 … 28), 17-24 the lower
#: left (38 … 31), 25-32 the lower right (41 … 48); A-E (55 … 51), F-J (61 … 65), K-O (75 … 71), P-T (81 … 85).
_UNIVERSAL_TO_FDI: dict[str, str] = {
    **{str(n): f"1{9 - n}" for n in range(1, 9)}, **{str(n): f"2{n - 8}" for n in range(9, 17)},
    **{str(n): f"3{25 - n}" for n in range(17, 25)}, **{str(n): f"4{n - 24}" for n in range(25, 33)},
    **{chr(64 + n): f"5{6 - n}" for n in range(1, 6)}, **{chr(64 + n): f"6{n - 5}" for n in range(6, 11)},
    **{chr(64 + n): f"7{16 - n}" for n in range(11, 16)}, **{chr(64 + n): f"8{n - 15}" for n in range(16, 21)},
}


def universal_as_fdi(text: str) -> tuple[str, ...] | None:
    """The teeth a tooth column in the Universal (US) numbering names, each as its FDI number, in the order written:
    a list (``'3, 14'`` → 16, 26; ``'A'`` → 55) or a range of one arch (``'6-11'``, the upper front teeth → 13, 12,
    11, 21, 22, 23; ``'K-M'``), each tooth once. None where the text is not wholly such a list (``'33'``, ``'16-17'``
    across the arches, a number and a letter in one range): only where the connector says the column is Universal."""
    ranges = _tooth_ranges(text, _UNIVERSAL_TOOTH)
    if ranges is None:
        return None
    found: list[str] = []
    for ends in ranges:
        first, last = (end.upper() for end in (ends[0], ends[-1]))
        if first.isdigit() != last.isdigit():
            return None
        low, high = (int(end) if end.isdigit() else ord(end) - 64 for end in (first, last))
        arch = 16 if first.isdigit() else 10  # 1-16 upper, 17-32 lower; A-J upper, K-T lower
        if (low - 1) // arch != (high - 1) // arch:
            return None
        step = 1 if high >= low else -1
        for n in range(low, high + step, step):
            tooth = _UNIVERSAL_TO_FDI[str(n) if first.isdigit() else chr(64 + n)]
            if tooth not in found:
                found.append(tooth)
    return tuple(found) or None


def universal_teeth(text: str) -> tuple[str, ...] | None:
    """The teeth a tooth column names if it is in the Universal (US) numbering, as written (``'3'``, ``'#19, 30'``,
    ``'A'``, ``'3-5'``), else None: nothing is converted, the answer only says the text could be Universal (a
    text such as ``'16'`` is both Universal and FDI; :func:`fdi_teeth` says whether it is FDI too)."""
    ranges = _tooth_ranges(text, _UNIVERSAL_TOOTH)
    found: list[str] = []
    for end in (end.upper() for ends in ranges or () for end in ends):
        if end not in found:
            found.append(end)
    return tuple(found) or None


#: A tooth surface as HL7's FDI-surface code system (http://terminology.hl7.org/CodeSystem/FDI-surface, R4 4.0.1)
#: codes it, one surface each: the code → its display there.
TOOTH_SURFACES: dict[str, str] = {"M": "Mesial", "O": "Occlusal", "I": "Incisal", "D": "Distal", "B": "Buccal",
                                  "V": "Ventral", "L": "Lingual"}
#: A surface letter as charts write it → the FDI-surface code: the system's own letters, and P (palatal, the surface
#: of an upper tooth facing the tongue: FDI-surface's L, "facing the tongue"). F (facial) is not here: it is the
#: buccal surface (B) of a back tooth and the labial (V) of a front one, which the letter alone does not say.
_SURFACE_LETTERS = {**{code: code for code in TOOTH_SURFACES}, "P": "L"}
#: A surface as Korean charts name it (근심면 mesial, 교합면 occlusal, 원심면 distal, 협측 buccal, 순측 labial, 설측
#: lingual, 구개측 palatal, 절단연 incisal), with or without 면/측, longest first so that a run ('근심교합원심') splits.
_SURFACE_WORDS = sorted({
    **{w + end: "M" for w in ("근심",) for end in ("", "면")},
    **{w + end: "D" for w in ("원심",) for end in ("", "면")},
    **{w + end: "O" for w in ("교합",) for end in ("", "면")},
    **{w + end: "I" for w in ("절단", "절연") for end in ("", "면", "연")},
    **{w + end: "B" for w in ("협", "협측") for end in ("", "면")},
    **{w + end: "V" for w in ("순", "순측") for end in ("", "면")},
    **{w + end: "L" for w in ("설", "설측") for end in ("", "면")},
    **{w + end: "L" for w in ("구개", "구개측") for end in ("", "면")},
}.items(), key=lambda item: -len(item[0]))
_SURFACE_SEPARATORS = re.compile(r"[,;/·、+\s]+")


def tooth_surfaces(text: str) -> tuple[str, ...] | None:
    """The tooth surfaces a chart's surface column names, each as its FDI-surface code (:data:`TOOTH_SURFACES`), in
    the order written, each once: letters (``'MOD'`` → M, O, D; ``'DL'``; ``'m, o'``; P palatal → L) or Korean words
    (``'근심'``, ``'교합면'``, ``'근심교합원심'``, ``'설측'``). A combination is one code per surface, also where
    FDI-surface has a code for the whole (MO, DO, DI, MOD: four of the many a chart writes), so that the same surfaces
    are coded one way. None where the text is not wholly such surfaces (F facial, buccal or labial by the tooth;
    ``'전면'``; a digit): nothing is guessed."""
    found: list[str] = []
    for token in _SURFACE_SEPARATORS.split(text.strip()):
        if not token:
            continue
        if token.isascii():
            codes = [_SURFACE_LETTERS.get(letter) for letter in token.upper()]
        else:
            codes = []
            rest = token
            while rest:
                word = next(((w, c) for w, c in _SURFACE_WORDS if rest.startswith(w)), None)
                if word is None:
                    return None
                codes.append(word[1])
                rest = rest[len(word[0]):]
        if not all(codes):
            return None
        found.extend(code for code in codes if code is not None and code not in found)
    return tuple(found) or None


_PHONE_LIKE = re.compile(r"(01[016789]|0\d{1,2})-?(\d{3,4})-?(\d{4})")


def mask_id(value: str) -> str:
    """A 현금영수증 신분확인번호 on paper: an RRN masked as :func:`mask_rrn` does, a phone number with its middle
    hidden (010-****-5678); anything else (an approval number) as it is."""
    text = value.strip()
    if _RRN_LIKE.fullmatch(text):
        return mask_rrn(text)
    phone = _PHONE_LIKE.fullmatch(text)
    if phone:
        return f"{phone.group(1)}-{'*' * len(phone.group(2))}-{phone.group(3)}"
    return value


#: Canonical entity name → record class. Connector specs use these names.
ENTITY_TYPES: dict[str, type] = {
    "practitioner": Practitioner,
    "patient": Patient,
    "encounter": Encounter,
    "diagnosis": Diagnosis,
    "chart_note": ChartNote,
    "order_line": OrderLine,
    "procedure": ProcedureRecord,
    "lab_result": LabResult,
    "imaging_report": ImagingReport,
    "certificate": Certificate,
    "receipt": Receipt,
    "fee_line": FeeLine,
    "attachment": Attachment,
    # Added after the first 13 so that the export order of existing data stays as it was.
    "allergy": Allergy,
    "immunization": Immunization,
    "vital_signs": VitalSigns,
    "coverage": Coverage,
    "medication_statement": MedicationStatement,
    "lab_report": LabReport,  # after lab_result: a report refers to its results
    "payment": Payment,  # after receipt: a payment refers to the receipt it pays
    "appointment": Appointment,  # last: a booking refers to its patient and doctor only
}

#: References a record makes to another record of its own entity: (entity, field). A refund receipt names
#: the receipt it cancels (원수납번호); the connector's ``ref`` names the section itself.
SELF_REFERENCES: frozenset[tuple[str, str]] = frozenset({("receipt", "cancels_id")})

#: Fields of which a record needs at least one, beyond its required ones: record type → the fields. A diagnosis
#: written only as its name (no code) is a Condition whose code is text alone; one with neither is no diagnosis
#: (the mapper quarantines the row as required-missing, as it does a required field's empty value).
REQUIRED_ONE_OF: dict[type, tuple[str, ...]] = {Diagnosis: ("code", "text")}

#: Export order: parents before children, so references can be checked while streaming.
ENTITY_ORDER: tuple[str, ...] = tuple(ENTITY_TYPES)

#: References a child makes to a *later* entity, which FHIR writes from the parent's side: (child entity,
#: its field) → (parent entity, the parent's field listing the children). A lab result names its report
#: (``LAB_RSLT.PANEL_NO``), and the report's DiagnosticReport.result lists its Observations: the export
#: reads, per page of reports, the keys of the results naming them (pipeline/export.py).
BACK_REFERENCES: dict[tuple[str, str], tuple[str, str]] = {
    ("lab_result", "report_id"): ("lab_report", "result_ids"),
}

Record = (
    Practitioner
    | Patient
    | Encounter
    | Diagnosis
    | ChartNote
    | OrderLine
    | ProcedureRecord
    | LabResult
    | ImagingReport
    | Certificate
    | Receipt
    | FeeLine
    | Attachment
    | Allergy
    | Immunization
    | VitalSigns
    | Coverage
    | MedicationStatement
    | LabReport
    | Payment
    | Appointment
)


def record_maker(record_type: type) -> Callable[[str, Provenance, dict[str, Any]], Any]:
    """A fast stand-in for ``record_type(id=..., provenance=..., **{k: v for k, v in values.items() if v is
    not None})``: the same record (a None value takes the field's default), built by the slots' own setters
    instead of the frozen dataclass's keyword ``__init__`` (a hot spot: one record per source row).

    Values the record has no field for go to the real constructor, which raises its own ``TypeError``.
    tests/test_fhir_fast.py holds it to the constructor for every record type.
    """
    return _record_makers(record_type)


@functools.cache
def _record_makers(record_type: type) -> Callable[[str, Provenance, dict[str, Any]], Any]:
    fields = dataclasses.fields(record_type)
    env: dict[str, Any] = {
        "_new": object.__new__, "cls": record_type, "_slow": _make_slowly,
        "KNOWN": frozenset(f.name for f in fields) - {"id", "provenance"},
    }
    lines = [
        "def make(id, provenance, values):",
        "    if not values.keys() <= KNOWN:",
        "        return _slow(cls, id, provenance, values)",
        "    self = _new(cls)",
        "    get = values.get",
    ]
    for i, f in enumerate(fields):
        env[f"S{i}"] = record_type.__dict__[f.name].__set__  # the slot's setter: frozen only for __setattr__
        if f.name in ("id", "provenance"):
            lines.append(f"    S{i}(self, {f.name})")
        elif f.default is not dataclasses.MISSING:
            env[f"D{i}"] = f.default
            lines += [f"    v = get({f.name!r})", f"    S{i}(self, D{i} if v is None else v)"]
        elif f.default_factory is not dataclasses.MISSING:
            env[f"D{i}"] = f.default_factory
            lines += [f"    v = get({f.name!r})", f"    S{i}(self, D{i}() if v is None else v)"]
        else:
            lines += [f"    v = get({f.name!r})", "    if v is None:",  # the constructor's own TypeError
                      "        return _slow(cls, id, provenance, values)", f"    S{i}(self, v)"]
    if hasattr(record_type, "__post_init__"):
        lines.append("    self.__post_init__()")
    lines.append("    return self")
    exec(compile("\n".join(lines) + "\n", f"<record maker of {record_type.__name__}>", "exec"), env)
    return cast(Callable[[str, Provenance, dict[str, Any]], Any], env["make"])


def _make_slowly(record_type: type, id: str, provenance: Provenance, values: dict[str, Any]) -> Any:
    return record_type(id=id, provenance=provenance, **{k: v for k, v in values.items() if v is not None})


@dataclass(frozen=True, slots=True, kw_only=True)
class QuarantinedRow:
    """A source row that could not be mapped; carried verbatim into data/raw/ with the reason."""

    entity: str
    provenance: Provenance
    reason_code: str  # stable, e.g. "invalid-date", "orphan", "duplicate-key", "required-missing"
    reason: str  # human readable; names the field, never the value
    raw: dict[str, object]  # column → value as read (bytes kept as bytes)
