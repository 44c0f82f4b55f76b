"""FHIR R4 (HL7 Korea KR Core 2.0.0) resources from canonical records.

One function per record type turns a :mod:`emr_exporter.model` record into plain JSON-able dicts
(``str``/``int``/``float``/``bool``/``list``/``dict``, nothing else), the same dict for the same record
on every run. ``docs/fhir-mapping.md`` is the table of what becomes what and why.

Conventions that hold for every resource written here:

* ``id`` is the record's deterministic id; references use the referenced record's id
  (``Patient/<patient_id>``), so nothing has to be looked up while streaming.
* Where the record came from is an ``identifier`` with ``use`` = ``secondary``, system
  ``urn:emr-exporter:source:<connector>:<table>`` (percent-encoded) and value = the source key.
* The retention class is a ``meta.tag`` with system :data:`RETENTION_TAG_SYSTEM`, code = its slug.
* ``meta.profile`` names a KR Core profile only where the resource meets that profile's constraints
  as far as the record allows (see the doc for the ones we cannot meet and why).
* Decimals: a whole value becomes a JSON integer (every KRW amount); a fractional value becomes a
  float only when that float's JSON text denotes exactly the same number; otherwise (and for lab
  values whose recorded text is not the JSON text, e.g. ``5.60``) the element also carries the exact
  text in a primitive extension :data:`EXACT_DECIMAL_URL` (``"_value": {"extension": [...]}``).
* Date-times without a zone are clinic wall-clock time: they are written with ``+09:00`` (KST).

The RRN appears in the Patient resource only (as an identifier); no other resource carries it.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import os
import re
import unicodedata
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

from emr_exporter import model
from emr_exporter.errors import MappingError

# --- URIs: every system, profile and extension URL the mapper writes lives here --------------------

#: HL7 Korea KR Core 2.0.0 profile canonical base (hl7korea/krocre, input/fsh/profiles).
KRCORE_PROFILE_BASE = "http://www.hl7korea.or.kr/fhir/krcore/StructureDefinition/"
PROFILE_PATIENT = KRCORE_PROFILE_BASE + "krcore-patient"
PROFILE_PRACTITIONER = KRCORE_PROFILE_BASE + "krcore-practitioner"
PROFILE_MEDICAL_DOCTOR = KRCORE_PROFILE_BASE + "krcore-medical-doctor"
PROFILE_HEALTHCARE_ORGANIZATION = KRCORE_PROFILE_BASE + "krcore-healthcare-organization"
PROFILE_ENCOUNTER = KRCORE_PROFILE_BASE + "krcore-encounter"
PROFILE_PROCEDURE = KRCORE_PROFILE_BASE + "krcore-procedure"
PROFILE_DIAGNOSTIC_IMAGING = KRCORE_PROFILE_BASE + "krcore-diagnosticreport-diagnostic-imaging"
PROFILE_LAB_REPORT = KRCORE_PROFILE_BASE + "krcore-diagnosticreport-laboratory-results"
PROFILE_ALLERGY = KRCORE_PROFILE_BASE + "krcore-allergyintolerance"
PROFILE_IMMUNIZATION = KRCORE_PROFILE_BASE + "krcore-immunization"
PROFILE_VITAL_SIGNS = KRCORE_PROFILE_BASE + "krcore-vitalsigns"
PROFILE_BLOOD_PRESSURE = KRCORE_PROFILE_BASE + "krcore-bloodpressure"
#: Vital-sign kind → (KR Core profile, the UCUM code that profile fixes). Kinds not listed here use the
#: generic vital-signs profile; a measurement in another unit (lb, degF …) claims no profile.
VITAL_PROFILES: dict[str, tuple[str, str]] = {
    "pulse": (KRCORE_PROFILE_BASE + "krcore-heartrate", "/min"),
    "respiration": (KRCORE_PROFILE_BASE + "krcore-respiratoryrate", "/min"),
    "temperature": (KRCORE_PROFILE_BASE + "krcore-bodytemperature", "Cel"),
    "weight": (KRCORE_PROFILE_BASE + "krcore-bodyweight", "kg"),
    "height": (KRCORE_PROFILE_BASE + "krcore-bodyheight", "cm"),
    "spo2": (KRCORE_PROFILE_BASE + "krcore-pulseoximetry", "%"),
}

#: KR Core code systems and identifier systems.
KCD_SYSTEM_PREFIX = "http://www.hl7korea.or.kr/CodeSystem/kostat-kcd-"  # + edition number
EDI_PROCEDURE_SYSTEM = "http://www.hl7korea.or.kr/CodeSystem/hira-edi-procedure"
EDI_MEDICATION_SYSTEM = "http://www.hl7korea.or.kr/CodeSystem/hira-edi-medication"
EDI_MATERIAL_SYSTEM = "http://www.hl7korea.or.kr/CodeSystem/hira-edi-material"
HIRA_KRNPI_SYSTEM = "http://www.hl7korea.or.kr/Identifier/hira-krnpi"
MOHW_MD_LICENSE_SYSTEM = "http://www.hl7korea.or.kr/Identifier/mohw-md-license-id"
KRCORE_CONDITION_CATEGORY_SYSTEM = "http://www.hl7korea.or.kr/fhir/krcore/CodeSystem/krcore-condition-category-types"
KRCORE_VACCINATION_SYSTEM = "http://www.hl7korea.or.kr/fhir/krcore/CodeSystem/krcore-vcnt-types"  # 예방접종 유형
HIRA_INSURANCE_TYPES_SYSTEM = "http://www.hl7korea.or.kr/CodeSystem/hira-insurance-types"  # 보험자구분
KPIS_KD_SYSTEM = "http://www.hl7korea.or.kr/CodeSystem/kpis-kdcode"  # 약품표준코드 (KD code)
#: HIRA 보험자구분 (KR Core hira-insurance-types, complete: 4 건강보험, 5 의료급여, 7 보훈, 9 무료진료) of the
#: payer types as recorded. 자동차보험, 산재, 일반 have no code there and keep the project's system.
HIRA_INSURANCE_TYPES: dict[str, tuple[str, str]] = {
    "건강보험": ("4", "건강보험"),
    "의료급여": ("5", "의료급여"),
    "의료급여1종": ("5", "의료급여"),
    "의료급여2종": ("5", "의료급여"),
    "보훈": ("7", "보훈"),
    "무료진료": ("9", "무료진료"),
}
#: KR Core 2.0.0 defines no RRN identifier system (its Patient profile has no RRN slice); this URI is
#: the one the project brief names, kept provisional until KHIS publishes what the store expects.
RRN_SYSTEM = "http://www.hl7korea.or.kr/Identifier/rrn"

#: HL7 terminology.
V2_0203_SYSTEM = "http://terminology.hl7.org/CodeSystem/v2-0203"  # identifier types
V2_0074_SYSTEM = "http://terminology.hl7.org/CodeSystem/v2-0074"  # diagnostic service sections
V3_ACTCODE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
V3_INTERPRETATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
CONDITION_CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/condition-category"
OBSERVATION_CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/observation-category"
CONTACT_ENTITY_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/contactentity-type"
LOINC_SYSTEM = "http://loinc.org"
CVX_SYSTEM = "http://hl7.org/fhir/sid/cvx"
ATC_SYSTEM = "http://www.whocc.no/atc"
RXNORM_SYSTEM = "http://www.nlm.nih.gov/research/umls/rxnorm"
V3_ACTREASON_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
ALLERGY_CLINICAL_SYSTEM = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
ALLERGY_VERIFICATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
SUBSCRIBER_RELATIONSHIP_SYSTEM = "http://terminology.hl7.org/CodeSystem/subscriber-relationship"
COVERAGE_CLASS_SYSTEM = "http://terminology.hl7.org/CodeSystem/coverage-class"
DISCHARGE_DISPOSITION_SYSTEM = "http://terminology.hl7.org/CodeSystem/discharge-disposition"
DATA_ABSENT_REASON_URL = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
SNOMED_SYSTEM = "http://snomed.info/sct"
UCUM_SYSTEM = "http://unitsofmeasure.org"

#: emr-exporter's own namespace, for what neither FHIR nor KR Core has a home for.
PROJECT_URN = "urn:emr-exporter"
RETENTION_TAG_SYSTEM = f"{PROJECT_URN}:retention"
SOURCE_SYSTEM_PREFIX = f"{PROJECT_URN}:source:"  # + connector ":" table
KCD_UNKNOWN_EDITION_SYSTEM = f"{PROJECT_URN}:kcd-edition-unknown"
EDI_UNSPECIFIED_SYSTEM = f"{PROJECT_URN}:hira-edi-unspecified"  # EDI code whose kind was not recorded
PAYER_TYPE_SYSTEM = f"{PROJECT_URN}:payer-type"  # 건강보험 | 의료급여 | 자보 | 산재 | 일반, as recorded
#: The payer's member / card number as recorded (건강보험증번호, a policy number): no national system is
#: published for it, so it is the project's, qualified by the identifier type MB.
INSURED_NUMBER_SYSTEM = f"{PROJECT_URN}:insured-number"
VACCINE_LOCAL_SYSTEM = "vaccine-code"  # institution-scoped (institution_system): a clinic's own vaccine code
ORDER_CODE_TYPE_SYSTEM = f"{PROJECT_URN}:order-code-type"  # drug | procedure | material (코드구분)
DOCUMENT_CATEGORY_SYSTEM = f"{PROJECT_URN}:document-category"  # chart-note | certificate | attachment
CERTIFICATE_KIND_SYSTEM = f"{PROJECT_URN}:certificate-kind"  # 진단서, 소견서 … as recorded
RECEIPT_COMPONENT_SYSTEM = f"{PROJECT_URN}:receipt-component"
PAYMENT_METHOD_SYSTEM = f"{PROJECT_URN}:payment-method"  # model.PAYMENT_METHODS: card | cash | cash-receipt | …
#: A 현금영수증's number as recorded (its 승인번호 or the 신분확인번호 it was issued to): the national tax
#: service publishes no identifier system for it.
CASH_RECEIPT_SYSTEM = f"{PROJECT_URN}:cash-receipt-number"
PAYMENT_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/payment-type"
LICENCE_SYSTEM_PREFIX = f"{PROJECT_URN}:mohw-licence:"  # + licence kind, for non-doctor licences
#: A tooth in FDI two-digit notation (ISO 3950: 11-48 permanent, 51-85 deciduous), as Korean dental charts number
#: them. HL7's ex-tooth is an example code set (a few FDI codes, not every deciduous tooth) and ISO 3950 has no
#: HL7-registered URI, so the codes are the project's, the notation's own numbers (docs/fhir-mapping.md).
TOOTH_SYSTEM = f"{PROJECT_URN}:fdi-tooth"
#: A tooth surface: HL7's own code system (the one R4's Claim.item.subSite binds), M O I D B V L (model.TOOTH_SURFACES).
TOOTH_SURFACE_SYSTEM = "http://terminology.hl7.org/CodeSystem/FDI-surface"

_EXTENSION = f"{PROJECT_URN}:fhir:extension:"
EXACT_DECIMAL_URL = _EXTENSION + "exact-decimal"
RRN_MISSING_REASON_URL = _EXTENSION + "rrn-missing-reason"
FIRST_VISIT_URL = _EXTENSION + "first-visit"
DEPARTMENT_URL = _EXTENSION + "department"
INSTITUTION_KIND_URL = _EXTENSION + "institution-kind"
NIGHT_OR_HOLIDAY_URL = _EXTENSION + "night-or-holiday"
PRIMARY_DIAGNOSIS_URL = _EXTENSION + "primary-diagnosis"
OUTSIDE_PRESCRIPTION_URL = _EXTENSION + "outside-prescription"
ENCOUNTER_URL = _EXTENSION + "encounter"
RECEIPT_URL = _EXTENSION + "receipt"
RECEIPT_CANCELS_URL = _EXTENSION + "cancels"  # a refund/cancel Invoice → the Invoice it cancels
PATIENT_URL = _EXTENSION + "patient"  # PaymentReconciliation → the Patient who paid (R4 has no element for it)
PAYMENT_METHOD_URL = _EXTENSION + "payment-method"  # CodeableConcept: PAYMENT_METHOD_SYSTEM + the source's word
FEE_CATEGORY_URL = _EXTENSION + "fee-category"
FEE_DAYS_URL = _EXTENSION + "fee-days"
FEE_AMOUNTS_URL = _EXTENSION + "fee-amounts"  # complex: unit-price, total, patient-share, …
SOURCE_ENCRYPTED_URL = _EXTENSION + "source-encrypted"  # attachment bytes encrypted by the source EMR
#: The source EMR's own status text, verbatim, on every resource whose record had one (a status column).
RECORDED_STATUS_URL = _EXTENSION + "recorded-status"
ADMIT_SOURCE_URL = _EXTENSION + "admitted-from"
#: The tooth column as written ('11,12,21', '13-23'), beside the bodySite it gives (one per tooth).
RECORDED_TEETH_URL = _EXTENSION + "recorded-teeth"
#: The tooth-surface column as written ('MOD', '근심'), beside the bodySite concepts it gives (one per surface).
RECORDED_SURFACES_URL = _EXTENSION + "recorded-surfaces"
#: The side column as written ('R', 'OU', '좌안'), beside the bodySite it gives (the eye).
RECORDED_EYE_URL = _EXTENSION + "recorded-eye"
#: The eye a bodySite names (SNOMED CT body structures): right eye, left eye, both eyes.
EYE_SITES: dict[str, tuple[str, str]] = {
    "right": ("18944008", "Right eye structure"),
    "left": ("8966001", "Left eye structure"),
    "both": ("40638003", "Structure of both eyes"),
}
RECORDED_CODE_SYSTEM = f"{PROJECT_URN}:recorded-code"  # a further code kept verbatim, e.g. "ICD10:R05"
CONDITION_VERIFICATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CLINICAL_SYSTEM = "http://terminology.hl7.org/CodeSystem/condition-clinical"

#: Institution-scoped identifier/code systems: ``urn:emr-exporter:hira-krnpi:<요양기관기호>:<what>``.
INSTITUTION_SYSTEM_TEMPLATE = PROJECT_URN + ":hira-krnpi:{code}:{what}"

KST = model.KST
CURRENCY = "KRW"

# Licence kinds whose numbers are MOHW physician licences (KR Core "진료의 면허").
_MEDICAL_DOCTOR_LICENCE = "의사"
_LICENCE_SLUGS = {
    "의사": "physician",
    "치과의사": "dentist",
    "한의사": "korean-medicine-doctor",
    "간호사": "nurse",
    "조산사": "midwife",
    "약사": "pharmacist",
}
_GENDERS = frozenset({"male", "female", "other", "unknown"})
_ENCOUNTER_CLASS = {
    "outpatient": ("AMB", "ambulatory"),
    "inpatient": ("IMP", "inpatient encounter"),
}
#: A lab result's H/L flag as recorded (any case) → its v3 ObservationInterpretation code; HH/LL, a laboratory's panic
#: values, are its critical codes. Any other flag ('*', '↑') keeps its text alone.
_INTERPRETATION_FLAGS = {"H": "High", "L": "Low", "N": "Normal", "A": "Abnormal", "HH": "Critical high",
                         "LL": "Critical low", "AA": "Critical abnormal"}
#: A lab value that is a number, perhaps after a comparator: '<5.0', '>1000', '<= 0.5', '≥1.020'.
_LAB_NUMBER = re.compile(r"(?:(<=|>=|≤|≥|<|>)\s*)?([+-]?(?:\d+(?:\.\d*)?|\.\d+))")
_COMPARATORS = {"<": "<", ">": ">", "<=": "<=", ">=": ">=", "≤": "<=", "≥": ">="}
_FHIR_CODE = re.compile(r"[^\s]+( [^\s]+)*")
_KCD_EDITION = re.compile(r"kcd-(\d+)")
#: What a KCD code looks like, as clinics write it: a letter, two digits, then up to four more characters
#: with or without the dot (J00, J20.9, j209, S72.000, E11.90), perhaps a dagger or asterisk mark (G01*).
KCD_CODE = re.compile(r"[A-Za-z]\d{2}(\.?[0-9A-Za-z]{1,4})?[*+†]?")

#: Media type → file extension of attachments in the bag. A fixed table (not :mod:`mimetypes`,
#: which reads the platform's registry) so member names are the same on every machine.
ATTACHMENT_EXTENSIONS: dict[str, str] = {
    "application/pdf": "pdf",
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/tiff": "tif",
    "image/gif": "gif",
    "image/bmp": "bmp",
    "image/webp": "webp",
    "application/dicom": "dcm",
    "text/plain": "txt",
    "text/html": "html",
    "application/xml": "xml",
    "text/xml": "xml",
    "application/rtf": "rtf",
    "application/msword": "doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/x-hwp": "hwp",
    "application/haansofthwp": "hwp",
    "application/zip": "zip",
}
_TEXT_PLAIN_UTF8 = "text/plain; charset=utf-8"

#: Canonical entity name → FHIR resource types written for it.
RESOURCE_TYPES: dict[str, tuple[str, ...]] = {
    "institution": ("Organization",),
    "practitioner": ("Practitioner",),
    "patient": ("Patient",),
    "encounter": ("Encounter",),
    "diagnosis": ("Condition",),
    "chart_note": ("DocumentReference",),
    "order_line": ("MedicationRequest", "ServiceRequest"),  # drug → MedicationRequest, else ServiceRequest
    "procedure": ("Procedure",),
    "lab_result": ("Observation",),
    "imaging_report": ("DiagnosticReport",),
    "certificate": ("DocumentReference",),
    "receipt": ("Invoice",),
    "fee_line": ("ChargeItem",),
    "attachment": ("DocumentReference",),
    "allergy": ("AllergyIntolerance",),
    "immunization": ("Immunization",),
    "vital_signs": ("Observation",),  # one Observation per measurement of the set
    "coverage": ("Coverage",),
    "medication_statement": ("MedicationStatement",),
    "lab_report": ("DiagnosticReport",),
    "payment": ("PaymentReconciliation",),
    "appointment": ("Appointment",),
}

#: Allergy substance systems (``Allergy.substance_system``) → FHIR code system; anything else is the
#: clinic's own code (institution-scoped).
SUBSTANCE_SYSTEMS: dict[str, str] = {
    "edi-medication": EDI_MEDICATION_SYSTEM,
    "kd": KPIS_KD_SYSTEM,
    "atc": ATC_SYSTEM,
    "rxnorm": RXNORM_SYSTEM,
}
#: What clinics write in an allergy's substance for "no known allergy" (compared without case, spaces and
#: punctuation) → the SNOMED CT situation FHIR R4 records it with (AllergyIntolerance.code: "a negated/excluded
#: statement … e.g. 716186003 No known allergy"). Without it, "NKDA" or "없음" is an allergy *to* "NKDA" or "없음".
NO_KNOWN_ALLERGY: dict[str, tuple[str, str]] = {
    # not "무" alone: it is also a radish (a food allergy)
    **dict.fromkeys(("nka", "nkas", "noknownallergy", "noknownallergies", "none", "없음", "해당없음",
                     "알레르기없음", "알러지없음", "알레르기무", "알러지무", "특이사항없음", "특이없음"),
                    ("716186003", "No known allergy")),
    **dict.fromkeys(("nkda", "nkdas", "noknowndrugallergy", "noknowndrugallergies", "약물알레르기없음",
                     "약물알러지없음", "약물부작용없음"), ("409137002", "No known drug allergy")),
    **dict.fromkeys(("nkfa", "noknownfoodallergy", "noknownfoodallergies", "음식알레르기없음", "음식알러지없음",
                     "식품알레르기없음"), ("429625007", "No known food allergy")),
}
_NOT_LETTERS = re.compile(r"[\W_]+")


def no_known_allergy(substance: str) -> tuple[str, str] | None:
    """The SNOMED CT code and display of a substance text that records *no known allergy* ("NKDA", "없음",
    "No known allergies."), else None."""
    return NO_KNOWN_ALLERGY.get(_NOT_LETTERS.sub("", substance).casefold())


VACCINE_SYSTEMS: dict[str, str] = {
    "kdca": KRCORE_VACCINATION_SYSTEM,
    "cvx": CVX_SYSTEM,
    "kd": KPIS_KD_SYSTEM,
    "edi-medication": EDI_MEDICATION_SYSTEM,
}
#: Recorded unit text → UCUM code (the unit text itself is kept as recorded in Quantity.unit).
UCUM_UNITS: dict[str, str] = {
    "mmHg": "mm[Hg]", "mm[Hg]": "mm[Hg]", "/min": "/min", "회/분": "/min", "bpm": "/min", "beats/min": "/min",
    "℃": "Cel", "°C": "Cel", "C": "Cel", "Cel": "Cel", "degC": "Cel", "°F": "[degF]", "degF": "[degF]",
    "F": "[degF]", "kg": "kg", "g": "g", "lb": "[lb_av]", "lbs": "[lb_av]", "cm": "cm", "m": "m", "in": "[in_i]",
    "kg/m2": "kg/m2", "kg/㎡": "kg/m2", "%": "%", "L/min": "L/min", "mL": "mL", "ml": "mL",
}
#: Units as clinics write them, with CJK compatibility characters (㎎/㎗, ㎕, ㎖, ㎏, ㎝), μ, µ or u for micro,
#: 10^3, 10³ or x10^3, in any case → their UCUM code; the key is :func:`_unit_key`'s spelling. Only units whose
#: UCUM code is certain: an unknown one keeps its text alone (``unit``), never a guessed code.
_UCUM_SPELLINGS: dict[str, str] = {
    **{k.lower(): v for k, v in UCUM_UNITS.items() if k not in ("C", "F", "m")},  # 'c', 'f', 'm' are too short
    "°c": "Cel", "mg/dl": "mg/dL", "g/dl": "g/dL", "ug/dl": "ug/dL", "ng/dl": "ng/dL", "mg/l": "mg/L",
    "g/l": "g/L", "ug/l": "ug/L", "ng/ml": "ng/mL", "pg/ml": "pg/mL", "ug/ml": "ug/mL", "mg/ml": "mg/mL",
    "mmol/l": "mmol/L", "umol/l": "umol/L", "nmol/l": "nmol/L", "pmol/l": "pmol/L", "meq/l": "meq/L",
    "mmol/mol": "mmol/mol", "mosm/kg": "mosm/kg", "iu/l": "[IU]/L", "iu/ml": "[IU]/mL", "miu/ml": "m[IU]/mL",
    "miu/l": "m[IU]/L", "uiu/ml": "u[IU]/mL", "u/l": "U/L", "u/ml": "U/mL", "10^3/ul": "10*3/uL",
    "10^6/ul": "10*6/uL", "10^9/l": "10*9/L", "10^12/l": "10*12/L", "/ul": "/uL", "/hpf": "/[HPF]", "/lpf": "/[LPF]",
    "fl": "fL", "pg": "pg", "ng": "ng", "ug": "ug", "mg": "mg", "ul": "uL", "dl": "dL", "l": "L", "sec": "s",
    "mm/hr": "mm/h", "mm/h": "mm/h", "ml/min": "mL/min", "ml/min/1.73m2": "mL/min/{1.73_m2}", "mmhg": "mm[Hg]",
    "kg/m^2": "kg/m2",
}
_SUPERSCRIPT_POWERS = str.maketrans({"²": "^2", "³": "^3", "⁶": "^6", "⁹": "^9"})


def _unit_key(unit: str) -> str:
    """A unit's spelling for :data:`_UCUM_SPELLINGS`: compatibility characters unfolded (㎎ → mg, ㎕ → μl), micro as
    u, no spaces, lower case, a leading 'x' or '×' before a power of ten dropped (x10^3/uL)."""
    text = unicodedata.normalize("NFKC", unit.translate(_SUPERSCRIPT_POWERS))
    text = text.replace("μ", "u").replace(" ", "").lower()
    if text[:3] in ("x10", "×10"):
        text = text[1:]
    return text


def ucum_code(unit: str) -> str | None:
    """The UCUM code of a unit as recorded (mmHg, ㎎/㎗, ㎕, 10^3/uL, IU/L …), or None when it is not certain."""
    code = UCUM_UNITS.get(unit)
    return code if code is not None else _UCUM_SPELLINGS.get(_unit_key(unit))


DISCHARGE_DISPOSITIONS: dict[str, str] = {
    "home": "Home", "alt-home": "Alternative home", "other-hcf": "Other healthcare facility", "hosp": "Hospice",
    "long": "Long-term care", "aadvice": "Left against advice", "exp": "Expired", "psy": "Psychiatric hospital",
    "rehab": "Rehabilitation", "snf": "Skilled nursing facility", "oth": "Other",
}
SUBSCRIBER_RELATIONSHIPS = frozenset({"child", "parent", "spouse", "common", "other", "self", "injured"})
IMMUNIZATION_REASONS: dict[str, str] = {
    "PATOBJ": "patient objection", "IMMUNE": "immunity", "MEDPREC": "medical precaution",
    "OSTOCK": "product out of stock", "VACEFF": "vaccine efficacy concerns",
}


def resource_types_of(entity: str) -> tuple[str, ...]:
    """Every FHIR resource type ``to_fhir`` can write for records of canonical ``entity``."""
    try:
        return RESOURCE_TYPES[entity]
    except KeyError:
        raise ValueError(f"unknown canonical entity {entity!r}") from None


def resource_type_of(entity: str) -> str:
    """The FHIR resource type written for canonical ``entity``.

    ``order_line`` has two (drug lines are MedicationRequest, procedure/material lines ServiceRequest):
    asking for one is a programming error, so it raises ``ValueError``; use :func:`resource_types_of`.
    """
    types = resource_types_of(entity)
    if len(types) != 1:
        raise ValueError(f"entity {entity!r} maps to several resource types {types}; use resource_types_of")
    return types[0]


def organization_id(institution: model.Institution) -> str:
    """Deterministic id of the Organization resource written for ``institution``."""
    return model.record_id("institution", "institution", institution.code)


def institution_system(institution: model.Institution, what: str) -> str:
    """An identifier/code system scoped to one clinic, e.g. its chart numbers or local codes."""
    return INSTITUTION_SYSTEM_TEMPLATE.format(code=quote(institution.code, safe=""), what=what)


def attachment_member_name(record: model.Attachment) -> str:
    """Path of the attachment's bytes inside the bag's ``data/`` folder: ``attachments/<id>.<ext>``."""
    media_type = record.media_type.split(";", 1)[0].strip().lower()
    return f"attachments/{record.id}.{ATTACHMENT_EXTENSIONS.get(media_type, 'bin')}"


# --- small builders --------------------------------------------------------------------------------


def _fail(record: Any, field: str, problem: str) -> MappingError:
    """A mapping error naming the entity, source table, key and field, never a value."""
    key = model.display_key(record.provenance.key)
    where = f"{type(record).__name__} from table {record.provenance.table!r} key {key!r}"
    return MappingError(
        f"{where}: {field}: {problem}. The row is kept as a raw row; check the connector's mapping of this field."
    )


def _require_text(record: Any, *field_names: str) -> None:
    """FHIR strings cannot be empty: a required text field that is empty makes the record unmappable."""
    for field_name in field_names:
        value = getattr(record, field_name)
        if not value or not value.strip():
            raise _fail(record, field_name, "is empty")


def _recorded_coding(record: Any, field_name: str, system: str, display: str | None = None) -> dict[str, str]:
    """A coding of the code in ``record.<field_name>``, kept as recorded; a code FHIR cannot hold is an error."""
    code = getattr(record, field_name)
    if not isinstance(code, str) or not _FHIR_CODE.fullmatch(code):
        raise _fail(record, field_name, "is not a usable code (empty, or with leading, trailing or double spaces)")
    return _coding(system, code, display)


def _check_frequency(record: model.OrderLine) -> None:
    if record.frequency is not None and record.frequency < 1:
        raise _fail(record, "frequency", "must be at least once a day")


def _status(
    record: Any, usual: str, inactive: str | None = None, allowed: frozenset[str] = frozenset(),
    unknown: str | None = "unknown", renamed: dict[str, str] | None = None,
) -> str:
    """The FHIR status of a record: ``usual``, or what its source-recorded ``status`` says.

    ``allowed``: value-set codes passed through as they are (``renamed`` first maps a canonical status
    onto this resource's code, e.g. stopped → revoked). A status recorded by the source that the connector
    could not map (``recorded_status`` without ``status``) becomes ``unknown`` — the value set's own code
    for it — or, where the value set has none (``unknown=None``: Immunization, Invoice, Coverage,
    PaymentReconciliation), the ``usual`` one, the status of a record whose EMR keeps none: the record stays
    in the chart (until 2026-12 it was quarantined unmappable), the value as recorded beside it (the
    recorded-status extension on every resource of the record, the cell carried raw as ``status-unread``),
    counted; never a guessed entered-in-error or cancelled.
    """
    status = getattr(record, "status", None)
    if status == "":  # mapped to "an ordinary record" (a deletion flag's 'N'): the usual status
        return usual
    if status is None:
        if getattr(record, "recorded_status", None) and unknown is not None:
            return unknown
        return usual
    status = str((renamed or {}).get(status, status))
    if status == "entered-in-error":
        return "entered-in-error"
    if status == "inactive":  # the generic "no longer current": each resource says it its own way
        return inactive or usual
    if status in allowed:
        return status
    raise _fail(record, "status", "is not a known record status")


def status_kept_as_recorded(record: Any) -> str | None:
    """The status the source recorded where no FHIR status was derived from it (it is counted), else None."""
    recorded = getattr(record, "recorded_status", None)
    return recorded if recorded and getattr(record, "status", None) is None else None


def status_label(resource: dict[str, Any]) -> str:
    """The status of a written resource, for the reconciliation's per-status counts."""
    if "status" in resource:
        return str(resource["status"])
    parts = []
    for element in ("clinicalStatus", "verificationStatus"):
        codings = (resource.get(element) or {}).get("coding") or []
        if codings:
            parts.append(str(codings[0].get("code")))
    return "/".join(parts) or "(none)"


#: ``isoformat()`` of the dates and naive date-times written lately, by exact type (a date and a date-time
#: never share a table): it formats through PyUnicode_FromFormat, ~3.5 k instructions a date and ~7 k a
#: date-time, a look-up ~1 k, and a clinic's rows share their days and hours. Equal keys have the same
#: text: dates and naive date-times are equal only field for field (fold is never written); aware ones
#: (an instant in several zones) and subclasses are not kept. Bounded: emptied when full.
_ISO_DATES: dict[dt.date, str] = {}
_ISO_DATETIMES: dict[dt.datetime, str] = {}
_ISO_TEXTS_MAX = 4096


def isoformat(value: dt.date | dt.datetime) -> str:
    """``value.isoformat()``, remembered for a date or a naive date-time (see _ISO_DATES)."""
    kind = type(value)
    if kind is dt.date:
        texts: dict[Any, str] = _ISO_DATES
    elif kind is dt.datetime and value.tzinfo is None:  # type: ignore[union-attr]  # (a datetime: its type)
        texts = _ISO_DATETIMES
    else:
        return value.isoformat()
    text = texts.get(value)
    if text is None:
        if len(texts) >= _ISO_TEXTS_MAX:
            texts.clear()
        text = texts[value] = value.isoformat()
    return text


def fhir_date(value: dt.date) -> str:
    if isinstance(value, dt.datetime):
        value = value.date()
    return isoformat(value)


def fhir_datetime(value: dt.date | dt.datetime) -> str:
    """A FHIR dateTime: a date stays a date; a naive date-time is clinic time (KST)."""
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        # What value.replace(tzinfo=KST).isoformat() writes: KST is a fixed +09:00 (hot path: no new object).
        return isoformat(value) + "+09:00"
    return isoformat(value)


def fhir_number(value: Decimal) -> int | float:
    """A JSON number for ``value``: int when whole, else the float (possibly inexact; see decimal_element)."""
    if not value.is_finite():
        raise ValueError("not a finite number")
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def decimal_element(name: str, value: Decimal, recorded_text: str | None = None) -> dict[str, Any]:
    """``{name: number}``, plus ``_name`` with the exact text when the JSON number cannot carry it.

    The exact text is added when the float's JSON text denotes a different number than ``value``, or
    when the value was recorded as text (lab values) and that text differs from the JSON text.
    """
    if not value.is_finite():
        raise ValueError("not a finite number")
    if value == value.to_integral_value():
        # fhir_number's int: its text always denotes value exactly (hot path: amounts are whole won).
        whole = int(value)
        if recorded_text is None or recorded_text == repr(whole):
            return {name: whole}
        return {name: whole, "_" + name: _exact_text(recorded_text)}
    number = float(value)
    json_text = repr(number)
    exact_text = recorded_text if recorded_text is not None else str(value)
    inexact = Decimal(json_text) != value
    if inexact or (recorded_text is not None and recorded_text != json_text):
        return {name: number, "_" + name: _exact_text(exact_text)}
    return {name: number}


def _exact_text(text: str) -> dict[str, Any]:
    return {"extension": [{"url": EXACT_DECIMAL_URL, "valueString": text}]}


def money(value: Decimal) -> dict[str, Any]:
    element = decimal_element("value", value)
    element["currency"] = CURRENCY
    return element


def _ref(resource_type: str, resource_id: str) -> dict[str, str]:
    return {"reference": f"{resource_type}/{resource_id}"}


def _meta(record: Any, profile: str | None) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    if profile:
        meta["profile"] = [profile]
    retention: model.RetentionClass = record.retention
    meta["tag"] = [_retention_tag(retention)]
    return meta


#: One tag per retention class, shared by every resource's meta (never changed after it is made); by slug,
#: as hashing the enum member itself runs Python code (Enum.__hash__) for every resource.
_RETENTION_TAGS: dict[str, dict[str, str]] = {
    retention.slug: {"system": RETENTION_TAG_SYSTEM, "code": retention.slug, "display": f"{retention.years} years"}
    for retention in model.RetentionClass
}


def _retention_tag(retention: model.RetentionClass) -> dict[str, str]:
    return _RETENTION_TAGS[retention.slug]


@functools.lru_cache(maxsize=256)
def _source_system(connector: str, table: str) -> str:
    # One per source table: cached because it is needed for every resource (a profile hot spot).
    return f"{SOURCE_SYSTEM_PREFIX}{quote(connector, safe='')}:{quote(table, safe='')}"


def source_identifier(provenance: model.Provenance) -> dict[str, str]:
    """The identifier saying which source table and key a resource came from."""
    system = _source_system(provenance.connector, provenance.table)
    if not provenance.key:  # an empty (or whitespace-only) key: FHIR strings cannot be empty
        return {"use": "secondary", "system": system}  # the exact key is carried in data/raw/columns
    return {"use": "secondary", "system": system, "value": provenance.key}


def _base(resource_type: str, record: Any, profile: str | None = None) -> dict[str, Any]:
    tag = _RETENTION_TAGS[record.retention.slug]  # _meta, inlined (every resource)
    return {
        "resourceType": resource_type,
        "id": record.id,
        "meta": {"profile": [profile], "tag": [tag]} if profile else {"tag": [tag]},
        "identifier": [source_identifier(record.provenance)],
    }


def _coding(system: str, code: str, display: str | None = None) -> dict[str, str]:
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return coding


def _concept(codings: list[dict[str, str]], text: str | None) -> dict[str, Any]:
    concept: dict[str, Any] = {}
    if codings:
        concept["coding"] = codings
    if text:
        concept["text"] = text
    return concept


def _text_attachment(text: str, title: str | None, created: dt.date | dt.datetime) -> dict[str, Any]:
    attachment: dict[str, Any] = {
        "contentType": _TEXT_PLAIN_UTF8,
        "data": base64.b64encode(text.encode("utf-8")).decode("ascii"),
    }
    if title:
        attachment["title"] = title
    attachment["creation"] = fhir_datetime(created)
    return attachment


def _document_category(code: str, display: str) -> list[dict[str, Any]]:
    return [_concept([_coding(DOCUMENT_CATEGORY_SYSTEM, code, display)], display)]


def _document_context(encounter_id: str | None, when: dt.date | dt.datetime) -> dict[str, Any]:
    context: dict[str, Any] = {}
    if encounter_id:
        context["encounter"] = [_ref("Encounter", encounter_id)]
    context["period"] = {"start": fhir_datetime(when)}
    return context


def _instant(when: dt.date | dt.datetime) -> str | None:
    """An R4 ``instant`` needs a time: only a date-time can be one."""
    return fhir_datetime(when) if isinstance(when, dt.datetime) else None


# --- the institution -------------------------------------------------------------------------------


def organization_resource(institution: model.Institution) -> dict[str, Any]:
    """The clinic as a KR Core Healthcare Organization (요양기관기호 as the HIRA identifier)."""
    resource: dict[str, Any] = {
        "resourceType": "Organization",
        "id": organization_id(institution),
        "meta": {"profile": [PROFILE_HEALTHCARE_ORGANIZATION]},
    }
    extensions = []
    if institution.kind:
        # KR Core's type binding needs HIRA 요양종별 codes; the kind is recorded as text only.
        extensions.append({"url": INSTITUTION_KIND_URL, "valueString": institution.kind})
    extensions.extend({"url": DEPARTMENT_URL, "valueString": d} for d in institution.departments)
    if extensions:
        resource["extension"] = extensions
    resource["identifier"] = [{"system": HIRA_KRNPI_SYSTEM, "value": institution.code}]
    resource["name"] = institution.name
    if institution.phone:
        resource["telecom"] = [{"system": "phone", "value": institution.phone}]
    if institution.address:
        resource["address"] = [{"text": institution.address}]
    if institution.founder:
        resource["contact"] = [
            {
                "purpose": _concept([_coding(CONTACT_ENTITY_TYPE_SYSTEM, "ADMIN", "Administrative")], "개설자"),
                "name": {"text": institution.founder},
            }
        ]
    return resource


# --- persons -----------------------------------------------------------------------------------------


def _practitioner(record: model.Practitioner, institution: model.Institution) -> list[dict[str, Any]]:
    _require_text(record, "name")
    is_doctor = record.licence_kind == _MEDICAL_DOCTOR_LICENCE
    if is_doctor and record.licence_number:
        profile: str | None = PROFILE_MEDICAL_DOCTOR
    elif is_doctor:
        profile = None  # the doctor profile needs the licence number; the general one excludes doctors
    else:
        profile = PROFILE_PRACTITIONER
    resource = _base("Practitioner", record, profile)
    if record.department:
        resource["extension"] = [{"url": DEPARTMENT_URL, "valueString": record.department}]
    resource["name"] = [{"text": record.name}]
    if record.licence_kind or record.licence_number:
        qualification: dict[str, Any] = {}
        if record.licence_number:
            if is_doctor:
                system = MOHW_MD_LICENSE_SYSTEM
            else:
                kind = record.licence_kind or "unknown"
                system = LICENCE_SYSTEM_PREFIX + _LICENCE_SLUGS.get(kind, quote(kind, safe=""))
            qualification["identifier"] = [{"system": system, "value": record.licence_number}]
        qualification["code"] = {"text": record.licence_kind or "면허"}
        resource["qualification"] = [qualification]
    return [resource]


def _patient(record: model.Patient, institution: model.Institution) -> list[dict[str, Any]]:
    _require_text(record, "chart_number", "name")
    if record.sex is not None and record.sex not in _GENDERS:
        raise _fail(record, "sex", "is not one of male, female, other, unknown")
    # KR Core Patient needs identifier, name.text, gender and birthDate.
    resource = _base("Patient", record, PROFILE_PATIENT if record.birth_date else None)
    extensions: list[dict[str, Any]] = []
    if not record.rrn and record.rrn_missing_reason:
        extensions.append({"url": RRN_MISSING_REASON_URL, "valueString": record.rrn_missing_reason})
    if record.first_visit:
        extensions.append({"url": FIRST_VISIT_URL, "valueDate": fhir_date(record.first_visit)})
    if extensions:
        resource["extension"] = extensions
    identifiers = [
        {
            "use": "usual",
            "type": _concept([_coding(V2_0203_SYSTEM, "MR", "Medical record number")], "환자등록번호"),
            "system": institution_system(institution, "chart-number"),
            "value": record.chart_number,
        }
    ]
    if record.rrn:
        identifiers.append(
            {
                "use": "official",
                "type": _concept(
                    [_coding(V2_0203_SYSTEM, "NI", "National unique individual identifier")], "주민등록번호"
                ),
                "system": RRN_SYSTEM,
                "value": record.rrn,
            }
        )
    resource["identifier"] = identifiers + resource["identifier"]
    if record.active is not None:
        resource["active"] = record.active
    resource["name"] = [{"text": record.name}]
    if record.phone:
        resource["telecom"] = [{"system": "phone", "value": record.phone}]
    resource["gender"] = record.sex or "unknown"
    if record.birth_date:
        resource["birthDate"] = fhir_date(record.birth_date)
    if record.death_date is not None:
        resource["deceasedDateTime"] = fhir_datetime(record.death_date)
    elif record.deceased is not None:
        resource["deceasedBoolean"] = record.deceased
    if record.address:
        resource["address"] = [{"text": record.address}]
    resource["managingOrganization"] = _ref("Organization", organization_id(institution))
    # 환자 통합 (FHIR R4 Patient.link): the merged-away chart points forward to the one to use, the survivor back
    # to every chart merged into it (the old chart's own records keep pointing at the old chart, as recorded)
    links = [{"other": _ref("Patient", record.replaced_by), "type": "replaced-by"}] if record.replaced_by else []
    links += [{"other": _ref("Patient", other), "type": "replaces"} for other in record.replaces]
    if links:
        resource["link"] = links
    return [resource]


#: The FHIR extension saying why an element is missing (here: the source value was broken; it is
#: carried raw in data/raw/columns with its reason).
DATA_ABSENT_REASON_URL = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
_ABSENT = {"extension": [{"url": DATA_ABSENT_REASON_URL, "valueCode": "error"}]}
#: Where a dropped optional field can say so in FHIR: (canonical entity, field) -> (resource type,
#: element, how). "primitive": ``_element`` holds the extension; "list": an element with only the extension.
ABSENT_ELEMENTS: dict[tuple[str, str], tuple[str, str, str]] = {
    ("patient", "birth_date"): ("Patient", "birthDate", "primitive"),
    ("patient", "address"): ("Patient", "address", "list"),
    ("patient", "phone"): ("Patient", "telecom", "list"),
    ("encounter", "end"): ("Encounter", "period", "end"),
    ("diagnosis", "onset"): ("Condition", "onsetDateTime", "primitive"),
}


def mark_absent(resources: list[dict[str, Any]], entity: str, fields: Iterable[str]) -> None:
    """Add a data-absent-reason ("error") where FHIR allows one for each dropped field (others: none;
    the field's raw value and reason are in data/raw/columns either way)."""
    for name in fields:
        where = ABSENT_ELEMENTS.get((entity, name))
        if where is None:
            continue
        resource_type, element, how = where
        resource = next((r for r in resources if r["resourceType"] == resource_type), None)
        if resource is None:
            continue
        if how == "primitive" and element not in resource:
            resource["_" + element] = _ABSENT
        elif how == "list" and element not in resource:
            resource[element] = [_ABSENT]
        elif how == "end" and "end" not in resource.get(element, {}):
            resource.setdefault(element, {})["_end"] = _ABSENT


# --- clinical ----------------------------------------------------------------------------------------


def _encounter(record: model.Encounter, institution: model.Institution) -> list[dict[str, Any]]:
    if record.kind not in _ENCOUNTER_CLASS:
        raise _fail(record, "kind", "is neither outpatient nor inpatient")
    class_code, class_display = _ENCOUNTER_CLASS[record.kind]
    resource = _base("Encounter", record, PROFILE_ENCOUNTER)
    resource["extension"] = [{"url": NIGHT_OR_HOLIDAY_URL, "valueBoolean": record.night_or_holiday}]
    # The clinic is closed: every visit is over unless the source says otherwise (cancelled …).
    resource["status"] = _status(record, "finished", allowed=model.STATUS_VALUES["encounter"])
    resource["class"] = _coding(V3_ACTCODE_SYSTEM, class_code, class_display)
    if record.payer_type:
        codings = [_coding(PAYER_TYPE_SYSTEM, record.payer_type)] if _FHIR_CODE.fullmatch(record.payer_type) else []
        resource["type"] = [_concept(codings, record.payer_type)]
    if record.department:
        resource["serviceType"] = {"text": record.department}
    resource["subject"] = _ref("Patient", record.patient_id)
    if record.practitioner_id:
        resource["participant"] = [{"individual": _ref("Practitioner", record.practitioner_id)}]
    period = {"start": fhir_datetime(record.start)}
    if record.end is not None:
        period["end"] = fhir_datetime(record.end)
    resource["period"] = period
    if record.reason:
        resource["reasonCode"] = [{"text": record.reason}]
    hospitalization: dict[str, Any] = {}
    if record.admitted_from:
        hospitalization["admitSource"] = {"text": record.admitted_from}
    if record.discharge_disposition:
        code = record.discharge_disposition
        display = DISCHARGE_DISPOSITIONS.get(code)
        hospitalization["dischargeDisposition"] = _concept(
            [_coding(DISCHARGE_DISPOSITION_SYSTEM, code, display)] if display else [], display or code
        )
    if hospitalization:
        resource["hospitalization"] = hospitalization
    resource["serviceProvider"] = _ref("Organization", organization_id(institution))
    return [resource]


def kcd_system(edition: str | None) -> str:
    """The KR Core code system of a KCD edition (``kcd-8`` → ``…/kostat-kcd-8``)."""
    if edition is None:
        return KCD_UNKNOWN_EDITION_SYSTEM
    match = _KCD_EDITION.fullmatch(edition)
    if not match:
        raise ValueError("KCD edition must look like kcd-8")
    return KCD_SYSTEM_PREFIX + match.group(1)


def _diagnosis(record: model.Diagnosis, institution: model.Institution) -> list[dict[str, Any]]:
    try:
        system = kcd_system(record.kcd_edition)
    except ValueError:
        raise _fail(record, "kcd_edition", "must look like kcd-7, kcd-8 …") from None
    # No KR Core profile: its encounter-diagnosis profile requires clinicalStatus (not recorded) and a
    # KCD-8 coding (archives mix editions); the shape follows it anyway.
    resource = _base("Condition", record)
    resource["extension"] = [{"url": PRIMARY_DIAGNOSIS_URL, "valueBoolean": record.primary}]
    # A problem-list entry (문제목록, 주요병력) is the patient's, not a visit's: category problem-list-item alone
    # (KR Core's condition-category-types has no code for it), never read as a visit's diagnosis.
    resource["category"] = [
        _concept([_coding(CONDITION_CATEGORY_SYSTEM, "problem-list-item", "Problem List Item")], None)
        if record.problem_list else
        _concept(
            [
                _coding(KRCORE_CONDITION_CATEGORY_SYSTEM, "진단"),
                _coding(CONDITION_CATEGORY_SYSTEM, "encounter-diagnosis", "Encounter Diagnosis"),
            ],
            None,
        )
    ]
    # No clinicalStatus unless recorded; a recorded status without a Condition code is kept as recorded. A
    # resolution date with no status says it resolved (con-4: an abated Condition is inactive, resolved or in
    # remission; a recorded 'active' beside one is a contradiction, the row kept raw).
    # Entered in error (its status, or its verification): no clinicalStatus (con-5), so no abatement either (con-4
    # asks an abated Condition for one); the status and the date are then carried raw (no leaf in FHIR).
    status = _status(record, "", "inactive", model.STATUS_VALUES["diagnosis"], unknown="")
    erroneous = status == "entered-in-error" or record.verification == "entered-in-error"
    if record.abatement is not None and not erroneous:
        if not status:  # none recorded (or none read: the text as recorded stays beside it)
            status = "resolved"
        elif status not in ("inactive", "resolved", "remission"):
            raise _fail(record, "abatement", "is given but the status says the condition is still current")
    if erroneous:  # clinicalStatus must then be absent (con-5)
        resource["verificationStatus"] = _concept(
            [_coding(CONDITION_VERIFICATION_SYSTEM, "entered-in-error", "Entered in Error")], None
        )
    else:
        if status:
            resource["clinicalStatus"] = _concept([_coding(CONDITION_CLINICAL_SYSTEM, status, status.title())], None)
        if record.verification:
            if record.verification not in model.CONDITION_VERIFICATION_STATUSES:
                raise _fail(record, "verification", "is not a Condition verification status")
            resource["verificationStatus"] = _concept(
                [_coding(CONDITION_VERIFICATION_SYSTEM, record.verification, record.verification.title())], None
            )
    extra = [_coding(RECORDED_CODE_SYSTEM, code) for code in record.other_codes if _FHIR_CODE.fullmatch(code)]
    if record.code is None:
        # Written only as its name (OpenMRS diagnosis_non_coded): Condition.code holds the text alone (a
        # CodeableConcept may; KR Core's Condition.code binding is extensible), never a code made from it.
        if not record.text:
            raise _fail(record, "code", "is empty and so is the text: a diagnosis needs one of them")
        resource["code"] = _concept(extra, record.text)
    else:
        if not KCD_CODE.fullmatch(record.code):
            # Not a KCD code at all ('ZZZ99', a local code): kept as recorded without claiming it is in the KCD.
            system = RECORDED_CODE_SYSTEM
        resource["code"] = _concept([_recorded_coding(record, "code", system), *extra], record.text)
    resource["subject"] = _ref("Patient", record.patient_id)
    if record.encounter_id:
        resource["encounter"] = _ref("Encounter", record.encounter_id)
    if record.onset:
        resource["onsetDateTime"] = fhir_date(record.onset)
    if record.abatement and not erroneous:
        resource["abatementDateTime"] = fhir_date(record.abatement)
    if record.recorded:
        resource["recordedDate"] = fhir_date(record.recorded)
    _teeth(resource, record.teeth, record.surfaces, numbering=_numbering(record))
    _eye(resource, record.eye)
    return [resource]


def _numbering(record: model.Diagnosis | model.ProcedureRecord | model.FeeLine) -> str | None:
    """How the record's teeth are numbered (model.TOOTH_NUMBERINGS; None: FDI); another word is the connector's
    mistake, the record refused rather than its teeth read in a numbering it does not say."""
    if record.teeth_numbering not in (None, *model.TOOTH_NUMBERINGS):
        raise _fail(record, "teeth_numbering", "is neither 'fdi' nor 'universal'")
    return record.teeth_numbering


def _teeth(resource: dict[str, Any], written: str | None, surfaces: str | None = None,
           element: str = "bodySite", numbering: str | None = None) -> None:
    """A record's teeth: ``bodySite`` (``element``) one concept per tooth (FDI, :data:`TOOTH_SYSTEM`), in the order
    written, and the column as written in :data:`RECORDED_TEETH_URL`; a text that names no teeth (the connector's
    transform lets none through) the extension alone. Its surfaces after the teeth, one concept per surface
    (:data:`TOOTH_SURFACE_SYSTEM`), never a second coding of a tooth's concept (a coding says the same thing as
    its siblings; a surface is not the tooth), the column as written in :data:`RECORDED_SURFACES_URL`. Teeth in the
    Universal (US) numbering (``numbering``, as the connector says) are coded by their FDI numbers."""
    sites: list[dict[str, Any]] = []
    if written:
        resource.setdefault("extension", []).append({"url": RECORDED_TEETH_URL, "valueString": written})
        teeth = model.universal_as_fdi(written) if numbering == "universal" else model.fdi_teeth(written)
        sites.extend(_concept([_coding(TOOTH_SYSTEM, tooth)], None) for tooth in teeth or ())
    if surfaces:
        resource.setdefault("extension", []).append({"url": RECORDED_SURFACES_URL, "valueString": surfaces})
        sites.extend(_concept([_coding(TOOTH_SURFACE_SYSTEM, code, model.TOOTH_SURFACES[code])], None)
                     for code in model.tooth_surfaces(surfaces) or ())
    if sites:
        resource[element] = sites


def _eye_site(side: str) -> dict[str, Any]:
    code, display = EYE_SITES[side]
    return _concept([_coding(SNOMED_SYSTEM, code, display)], None)


def _eye(resource: dict[str, Any], written: str | None) -> None:
    """A record's eye: ``bodySite`` the eye :func:`~emr_exporter.model.eye_side` reads (right, left or both eyes,
    :data:`EYE_SITES`), and the column as written in :data:`RECORDED_EYE_URL`; a text that names no eye (the
    connector's transform lets none through) the extension alone."""
    if not written:
        return
    resource.setdefault("extension", []).append({"url": RECORDED_EYE_URL, "valueString": written})
    side = model.eye_side(written)
    if side is not None:
        resource["bodySite"] = [_eye_site(side)] if resource.get("resourceType") == "Condition" else _eye_site(side)


_CHART_SECTIONS = (
    ("chief_complaint", "주호소"),
    ("history", "현병력"),
    ("course", "경과"),
    ("plan", "계획"),
    ("text", "진료기록"),
)


def _chart_note(record: model.ChartNote, institution: model.Institution) -> list[dict[str, Any]]:
    resource = _base("DocumentReference", record)
    resource["status"] = _status(record, "current", unknown=None)
    if record.nursing:
        resource["type"] = _concept([_coding(LOINC_SYSTEM, "34746-8", "Nurse Note")], "간호기록부")
    else:
        resource["type"] = _concept([_coding(LOINC_SYSTEM, "11506-3", "Progress note")], "진료기록부")
    resource["category"] = _document_category("chart-note", "진료기록")
    resource["subject"] = _ref("Patient", record.patient_id)
    instant = _instant(record.recorded)
    if instant:
        resource["date"] = instant
    if record.author_id:
        resource["author"] = [_ref("Practitioner", record.author_id)]
    if record.amends_id:
        resource["relatesTo"] = [{"code": "replaces", "target": _ref("DocumentReference", record.amends_id)}]
    # One attachment per section, each verbatim; a note with no text still has its (empty) content.
    content = [
        {"attachment": _text_attachment(text, title, record.recorded)}
        for field_name, title in _CHART_SECTIONS
        if (text := getattr(record, field_name))
    ]
    resource["content"] = content or [
        {"attachment": {"contentType": _TEXT_PLAIN_UTF8, "creation": fhir_datetime(record.recorded)}}
    ]
    resource["context"] = _document_context(record.encounter_id, record.recorded)
    return [resource]


def _order_codings(record: model.OrderLine, institution: model.Institution, edi_system: str) -> list[dict[str, str]]:
    codings = []
    if record.edi_code:
        codings.append(_recorded_coding(record, "edi_code", edi_system, record.name))
    if record.local_code:
        codings.append(
            _recorded_coding(record, "local_code", institution_system(institution, "local-code"), record.name)
        )
    return codings


def _order_line(record: model.OrderLine, institution: model.Institution) -> list[dict[str, Any]]:
    if not (record.edi_code or record.local_code or record.name):
        raise _fail(record, "edi_code/local_code/name", "an order line needs a code or a name")
    _check_frequency(record)
    if record.code_type == "drug":
        return [_medication_request(record, institution)]
    return [_service_request(record, institution)]


_MEDICATION_REQUEST_STATUSES = frozenset({"active", "on-hold", "stopped", "completed", "cancelled", "draft"})
_SERVICE_REQUEST_STATUSES = frozenset({"active", "on-hold", "revoked", "completed", "draft"})


def _code_type_category(record: model.OrderLine) -> list[dict[str, Any]]:
    if not record.code_type:
        return []
    return [_concept([_recorded_coding(record, "code_type", ORDER_CODE_TYPE_SYSTEM)], None)]


def _days(days: int) -> dict[str, Any]:
    return {"value": days, "unit": "days", "system": UCUM_SYSTEM, "code": "d"}


def _order_group(record: model.OrderLine) -> dict[str, Any]:
    """The prescription an order line is one line of (its lines share it): the source system of the table whose key
    the group is (``group_table``, else the line's own table) with ``:group``, value the prescription's key as the
    source keys it."""
    provenance = record.provenance
    table = record.group_table or provenance.table
    return {"system": f"{_source_system(provenance.connector, table)}:group", "value": record.group_id}


def _medication_request(record: model.OrderLine, institution: model.Institution) -> dict[str, Any]:
    # No KR Core profile: it requires a medication-ingredient extension the source does not record.
    resource = _base("MedicationRequest", record)
    resource["extension"] = [{"url": OUTSIDE_PRESCRIPTION_URL, "valueBoolean": record.outside_prescription}]
    # Without a recorded status, whether it was taken or dispensed is not known: unknown, not guessed.
    resource["status"] = _status(record, "unknown", "stopped", _MEDICATION_REQUEST_STATUSES)
    resource["intent"] = "order"
    resource["category"] = _code_type_category(record)
    resource["medicationCodeableConcept"] = _concept(
        _order_codings(record, institution, EDI_MEDICATION_SYSTEM), record.name
    )
    resource["subject"] = _ref("Patient", record.patient_id)
    if record.encounter_id:
        resource["encounter"] = _ref("Encounter", record.encounter_id)
    resource["authoredOn"] = fhir_date(record.ordered)
    if record.prescriber_id:
        resource["requester"] = _ref("Practitioner", record.prescriber_id)
    dosage: dict[str, Any] = {}
    if record.frequency is not None:
        dosage["timing"] = {"repeat": {"frequency": record.frequency, "period": 1, "periodUnit": "d"}}
    if record.route:
        dosage["route"] = {"text": record.route}
    if record.dose is not None:
        quantity = decimal_element("value", record.dose)
        if record.dose_unit:
            quantity["unit"] = record.dose_unit
        dosage["doseAndRate"] = [{"doseQuantity": quantity}]
    if dosage:
        resource["dosageInstruction"] = [dosage]
    if record.days is not None:
        resource["dispenseRequest"] = {"expectedSupplyDuration": _days(record.days)}
    if record.group_id:
        resource["groupIdentifier"] = _order_group(record)
    if not resource["category"]:
        del resource["category"]
    return resource


def _service_request(record: model.OrderLine, institution: model.Institution) -> dict[str, Any]:
    edi_system = {"procedure": EDI_PROCEDURE_SYSTEM, "material": EDI_MATERIAL_SYSTEM}.get(
        record.code_type or "", EDI_UNSPECIFIED_SYSTEM
    )
    resource = _base("ServiceRequest", record)
    if record.outside_prescription:
        resource["extension"] = [{"url": OUTSIDE_PRESCRIPTION_URL, "valueBoolean": True}]
    resource["status"] = _status(
        record, "unknown", "revoked", _SERVICE_REQUEST_STATUSES, renamed={"stopped": "revoked", "cancelled": "revoked"}
    )
    resource["intent"] = "order"
    category = _code_type_category(record)
    if category:
        resource["category"] = category
    resource["code"] = _concept(_order_codings(record, institution, edi_system), record.name)
    if record.route:
        resource["orderDetail"] = [{"text": record.route}]
    if record.dose is not None:
        quantity = decimal_element("value", record.dose)
        if record.dose_unit:
            quantity["unit"] = record.dose_unit
        resource["quantityQuantity"] = quantity
    resource["subject"] = _ref("Patient", record.patient_id)
    if record.encounter_id:
        resource["encounter"] = _ref("Encounter", record.encounter_id)
    if record.frequency is not None or record.days is not None:
        repeat: dict[str, Any] = {}
        if record.days is not None:
            repeat["boundsDuration"] = _days(record.days)
        if record.frequency is not None:
            repeat.update({"frequency": record.frequency, "period": 1, "periodUnit": "d"})
        resource["occurrenceTiming"] = {"repeat": repeat}
    resource["authoredOn"] = fhir_date(record.ordered)
    if record.prescriber_id:
        resource["requester"] = _ref("Practitioner", record.prescriber_id)
    if record.group_id:
        resource["requisition"] = _order_group(record)
    return resource


def _procedure(record: model.ProcedureRecord, institution: model.Institution) -> list[dict[str, Any]]:
    if not (record.edi_code or record.name):
        raise _fail(record, "edi_code/name", "a procedure needs a code or a name")
    resource = _base("Procedure", record, PROFILE_PROCEDURE)
    # It is a record of what was performed.
    resource["status"] = _status(record, "completed", allowed=model.STATUS_VALUES["procedure"])
    if record.is_operation:
        resource["category"] = _concept([_coding(SNOMED_SYSTEM, "387713003", "Surgical procedure")], "수술")
    codings = [_recorded_coding(record, "edi_code", EDI_PROCEDURE_SYSTEM, record.name)] if record.edi_code else []
    resource["code"] = _concept(codings, record.name)
    resource["subject"] = _ref("Patient", record.patient_id)
    if record.encounter_id:
        resource["encounter"] = _ref("Encounter", record.encounter_id)
    resource["performedDateTime"] = fhir_date(record.performed)
    if record.performer_id:
        resource["performer"] = [{"actor": _ref("Practitioner", record.performer_id)}]
    _teeth(resource, record.teeth, record.surfaces, numbering=_numbering(record))
    return [resource]


def _lab_value(record: model.LabResult) -> dict[str, Any]:
    """valueQuantity when the recorded value is a plain number with a unit, perhaps after a comparator (``<5.0``,
    ``>1000``, ``≤ 0.01``: FHIR's ``comparator``); else valueString ("음성", "1+", "12.3 H", "1,200" as written).
    The unit stays as recorded (㎎/㎗), with its UCUM code beside it where that is certain."""
    value = record.value
    if value is None:
        return {}
    if record.unit:
        found = _LAB_NUMBER.fullmatch(value)
        if found is not None:
            comparator, number_text = found.group(1), found.group(2)
            try:
                number = Decimal(number_text)
            except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
                return {"valueString": value}
            quantity = decimal_element("value", number, recorded_text=number_text)
            if comparator:
                quantity["comparator"] = _COMPARATORS[comparator]
            quantity["unit"] = record.unit
            code = ucum_code(record.unit)
            if code is not None:
                quantity.update({"system": UCUM_SYSTEM, "code": code})
            return {"valueQuantity": quantity}
    return {"valueString": value}


def _lab_result(record: model.LabResult, institution: model.Institution) -> list[dict[str, Any]]:
    if not (record.code or record.name or record.loinc):
        raise _fail(record, "code/name", "a lab result needs a test code or name")
    # No KR Core profile: its laboratory-result profile requires `issued` (report time, not recorded).
    resource = _base("Observation", record)
    # Without a recorded status, the value the closed clinic holds is its last word.
    resource["status"] = _status(record, "final", allowed=model.STATUS_VALUES["lab_result"])
    # a check-up row's other findings (hearing: exam, a chest X-ray's reading: imaging, smoking: social-history)
    # say their own category; a category no code of FHIR's is its text alone
    category = record.category or "laboratory"
    display = model.OBSERVATION_CATEGORIES.get(category)
    resource["category"] = [_concept([_coding(OBSERVATION_CATEGORY_SYSTEM, category, display)] if display else [],
                                     None if display else category)]
    codings = (
        [_recorded_coding(record, "code", institution_system(institution, "lab-code"), record.name)]
        if record.code
        else []
    )
    if record.loinc:  # the analyte a check-up row's column names (GLU: 2345-7), beside any code of the lab's own
        codings.append(_coding(LOINC_SYSTEM, record.loinc, None))
    resource["code"] = _concept(codings, record.name)
    resource["subject"] = _ref("Patient", record.patient_id)
    if record.encounter_id:
        resource["encounter"] = _ref("Encounter", record.encounter_id)
    resource["effectiveDateTime"] = fhir_datetime(record.observed)
    if record.issued is not None:  # an outside lab's report time (수탁검사 보고일시)
        issued = _instant(record.issued)
        if issued:
            resource["issued"] = issued
    if record.performer_name:  # the outside lab (수탁기관) by its name: FHIR's Reference.display, no resource
        resource["performer"] = [{"display": record.performer_name}]
    if record.body_site:  # the ear a check-up row's hearing column names (SNOMED CT body structure); a text that
        # is no SNOMED CT id (a connector's own '우측 귀') its text alone
        site = record.body_site.strip()
        resource["bodySite"] = _concept([_coding(SNOMED_SYSTEM, site, model.BODY_SITES.get(site))], None) if (
            site.isascii() and site.isdigit()) else _concept([], record.body_site)
    resource.update(_lab_value(record))
    if record.flag:
        code = record.flag.strip().upper()
        display = _INTERPRETATION_FLAGS.get(code)
        codings = [_coding(V3_INTERPRETATION_SYSTEM, code, display)] if display else []
        resource["interpretation"] = [_concept(codings, record.flag)]
    if record.reference_range:
        resource["referenceRange"] = [{"text": record.reference_range}]
    return [resource]


def _imaging_report(record: model.ImagingReport, institution: model.Institution) -> list[dict[str, Any]]:
    resource = _base("DiagnosticReport", record, PROFILE_DIAGNOSTIC_IMAGING)
    resource["status"] = "final"
    resource["category"] = [_concept([_coding(V2_0074_SYSTEM, "IMG", "Diagnostic Imaging")], None)]
    codings = [_recorded_coding(record, "edi_code", EDI_PROCEDURE_SYSTEM)] if record.edi_code else []
    # code is 1..1 in FHIR: with neither an EDI code nor a modality, say only that it is an imaging test.
    resource["code"] = _concept(codings, record.modality or ("진단영상검사" if not codings else None))
    resource["subject"] = _ref("Patient", record.patient_id)
    if record.encounter_id:
        resource["encounter"] = _ref("Encounter", record.encounter_id)
    resource["effectiveDateTime"] = fhir_date(record.performed)
    if record.reader_id:
        resource["resultsInterpreter"] = [_ref("Practitioner", record.reader_id)]
    if record.text:
        resource["conclusion"] = record.text
    return [resource]


def _certificate(record: model.Certificate, institution: model.Institution) -> list[dict[str, Any]]:
    _require_text(record, "kind")
    resource = _base("DocumentReference", record)
    if record.number:
        resource["identifier"].insert(
            0,
            {
                "use": "official",
                "system": institution_system(institution, "certificate-number"),
                "value": record.number,
            },
        )
    resource["status"] = "current"
    codings = [_coding(CERTIFICATE_KIND_SYSTEM, record.kind)] if _FHIR_CODE.fullmatch(record.kind) else []
    resource["type"] = _concept(codings, record.kind)
    resource["category"] = _document_category("certificate", "진단서 등의 부본")
    resource["subject"] = _ref("Patient", record.patient_id)
    if record.doctor_id:
        resource["author"] = [_ref("Practitioner", record.doctor_id)]
    resource["custodian"] = _ref("Organization", organization_id(institution))
    if record.text:
        attachment = _text_attachment(record.text, record.kind, record.issued)
    else:
        attachment = {"contentType": _TEXT_PLAIN_UTF8, "title": record.kind, "creation": fhir_date(record.issued)}
    resource["content"] = [{"attachment": attachment}]
    resource["context"] = _document_context(record.encounter_id, record.issued)
    return [resource]


def _attachment_size(record: model.Attachment) -> int:
    if record.content.blob is not None:
        return len(record.content.blob)
    if record.content.path is not None:
        try:
            return os.stat(record.content.path).st_size
        except OSError:
            raise _fail(record, "content.path", "the attachment file cannot be read") from None
    raise _fail(record, "content", "has neither bytes nor a file")


def _attachment(record: model.Attachment, institution: model.Institution) -> list[dict[str, Any]]:
    _require_text(record, "media_type")
    resource = _base("DocumentReference", record)
    if record.encrypted:
        resource["extension"] = [{"url": SOURCE_ENCRYPTED_URL, "valueBoolean": True}]
    resource["status"] = _status(record, "current", unknown=None)
    if record.title:
        resource["type"] = {"text": record.title}
    resource["category"] = _document_category("attachment", "첨부")
    resource["subject"] = _ref("Patient", record.patient_id)
    if record.title:
        resource["description"] = record.title
    attachment: dict[str, Any] = {
        "contentType": record.media_type,
        "url": "../" + attachment_member_name(record),  # relative to data/fhir/ inside the bag
        "size": _attachment_size(record),
    }
    if record.title:
        attachment["title"] = record.title
    attachment["creation"] = fhir_date(record.created)
    resource["content"] = [{"attachment": attachment}]
    resource["context"] = _document_context(record.encounter_id, record.created)
    return [resource]


# --- billing -----------------------------------------------------------------------------------------

_RECEIPT_COMPONENTS = (
    ("covered_patient", "covered-patient", "급여 일부본인부담 본인부담금"),
    ("covered_insurer", "covered-insurer", "급여 일부본인부담 공단부담금"),
    ("covered_full_self", "covered-full-self", "급여 전액본인부담"),
    ("non_covered", "non-covered", "비급여"),
    ("paid", "paid", "납부한 금액"),
)

_FEE_AMOUNTS = (
    ("unit_price", "unit-price"),
    ("total", "total"),
    ("patient_share", "patient-share"),
    ("insurer_share", "insurer-share"),
    ("non_covered", "non-covered"),
)


def _amount(record: Any, field_name: str) -> dict[str, Any] | None:
    value: Decimal | None = getattr(record, field_name)
    if value is None:
        return None
    try:
        return money(value)
    except ValueError:
        raise _fail(record, field_name, "is not a finite amount") from None


def _receipt(record: model.Receipt, institution: model.Institution) -> list[dict[str, Any]]:
    resource = _base("Invoice", record)
    if record.encounter_id:
        resource["extension"] = [{"url": ENCOUNTER_URL, "valueReference": _ref("Encounter", record.encounter_id)}]
    if record.number:
        resource["identifier"].insert(
            0, {"use": "official", "system": institution_system(institution, "receipt-number"), "value": record.number}
        )
    resource["status"] = _status(record, "issued", allowed=model.STATUS_VALUES["receipt"], unknown=None)
    resource["type"] = {"text": "진료비 계산서·영수증"}
    resource["subject"] = _ref("Patient", record.patient_id)
    resource["date"] = fhir_date(record.issued)
    resource["issuer"] = _ref("Organization", organization_id(institution))
    components = []
    for field_name, code, display in _RECEIPT_COMPONENTS:
        amount = _amount(record, field_name)
        if amount is not None:
            components.append(
                {
                    "type": "informational",
                    "code": _concept([_coding(RECEIPT_COMPONENT_SYSTEM, code, display)], display),
                    "amount": amount,
                }
            )
    if components:
        resource["totalPriceComponent"] = components
    total = _amount(record, "total")
    if total is not None:
        resource["totalGross"] = total
    if record.cancels_id:
        resource.setdefault("extension", []).append(
            {"url": RECEIPT_CANCELS_URL, "valueReference": _ref("Invoice", record.cancels_id)})
    return [resource]


#: What clinics write for how a receipt was paid (compared without case, spaces and punctuation) →
#: model.PAYMENT_METHODS; any other word is "other" (its text kept as written).
PAYMENT_METHOD_WORDS: dict[str, str] = {
    **dict.fromkeys(("카드", "신용카드", "체크카드", "직불카드", "신용", "체크", "card", "creditcard", "credit",
                     "debitcard", "debit", "crd"), "card"),
    **dict.fromkeys(("현금", "cash", "csh"), "cash"),
    **dict.fromkeys(("현금영수증", "현금영수", "cashreceipt"), "cash-receipt"),
    **dict.fromkeys(("계좌이체", "이체", "계좌", "무통장", "무통장입금", "송금", "transfer", "banktransfer", "bank",
                     "wire"), "transfer"),
}


def payment_method(text: str | None) -> str | None:
    """The model.PAYMENT_METHODS code for a source's word for a payment method (None for none)."""
    if text is None or not text.strip():
        return None
    return PAYMENT_METHOD_WORDS.get(_NOT_LETTERS.sub("", text).lower(), "other")


def _payment(record: model.Payment, institution: model.Institution) -> list[dict[str, Any]]:
    """수납결제 → PaymentReconciliation: the payment's amount, day and method; detail[0].request the Invoice
    it pays (R4 has no patient element: the payer is an extension)."""
    resource = _base("PaymentReconciliation", record)
    if record.cash_receipt_number:
        resource["identifier"].insert(0, {"type": {"text": "현금영수증"}, "system": CASH_RECEIPT_SYSTEM,
                                          "value": record.cash_receipt_number})
    method = record.method or payment_method(record.method_text)
    if method is not None and method not in model.PAYMENT_METHODS:
        raise _fail(record, "method", "is not card, cash, cash-receipt, transfer or other")
    extensions = [{"url": PATIENT_URL, "valueReference": _ref("Patient", record.patient_id)}]
    if method is not None:
        extensions.append({"url": PAYMENT_METHOD_URL, "valueCodeableConcept": _concept(
            [_coding(PAYMENT_METHOD_SYSTEM, method, model.PAYMENT_METHODS[method])], record.method_text)})
    resource["extension"] = extensions
    resource["status"] = _status(record, "active", allowed=model.STATUS_VALUES["payment"], unknown=None)
    resource["created"] = fhir_datetime(record.paid)
    resource["paymentDate"] = fhir_date(record.paid)
    amount = _amount(record, "amount")
    assert amount is not None
    resource["paymentAmount"] = amount
    if record.approval_number:
        resource["paymentIdentifier"] = {"type": {"text": "승인번호"}, "value": record.approval_number}
    detail: dict[str, Any] = {"type": _concept([_coding(
        PAYMENT_TYPE_SYSTEM, *(("adjustment", "Adjustment") if record.amount < 0 else ("payment", "Payment")))],
        None)}
    if record.receipt_id:
        detail["request"] = _ref("Invoice", record.receipt_id)
    detail["payee"] = _ref("Organization", organization_id(institution))
    detail["amount"] = dict(amount)
    resource["detail"] = [detail]
    return [resource]


def _fee_line(record: model.FeeLine, institution: model.Institution) -> list[dict[str, Any]]:
    if not (record.code or record.name):
        raise _fail(record, "code/name", "a fee line needs a code or a name")
    resource = _base("ChargeItem", record)
    extensions: list[dict[str, Any]] = []
    if record.receipt_id:
        extensions.append({"url": RECEIPT_URL, "valueReference": _ref("Invoice", record.receipt_id)})
    if record.category:
        extensions.append({"url": FEE_CATEGORY_URL, "valueString": record.category})
    if record.days is not None:
        extensions.append({"url": FEE_DAYS_URL, "valueInteger": record.days})
    amounts = []
    for field_name, url in _FEE_AMOUNTS:
        amount = _amount(record, field_name)
        if amount is not None:
            amounts.append({"url": url, "valueMoney": amount})
    if amounts:
        extensions.append({"url": FEE_AMOUNTS_URL, "extension": amounts})
    if extensions:
        resource["extension"] = extensions
    resource["status"] = _status(record, "billed")
    codings = [_recorded_coding(record, "code", EDI_UNSPECIFIED_SYSTEM, record.name)] if record.code else []
    resource["code"] = _concept(codings, record.name)
    resource["subject"] = _ref("Patient", record.patient_id)
    if record.encounter_id:
        resource["context"] = _ref("Encounter", record.encounter_id)
    resource["occurrenceDateTime"] = fhir_date(record.service_date)
    if record.count is not None:
        try:
            resource["quantity"] = decimal_element("value", record.count)
        except ValueError:
            raise _fail(record, "count", "is not a finite number") from None
    # (ChargeItem's element is spelt so in R4)
    _teeth(resource, record.teeth, record.surfaces, "bodysite", _numbering(record))
    return [resource]


# --- the rest of the clinical record -------------------------------------------------------------------


def _dar_concept() -> dict[str, Any]:
    """A CodeableConcept that says only "not recorded" (data-absent-reason unknown)."""
    return {"extension": [{"url": DATA_ABSENT_REASON_URL, "valueCode": "unknown"}]}


def _allergy(record: model.Allergy, institution: model.Institution) -> list[dict[str, Any]]:
    _require_text(record, "substance")
    codings = []
    if record.substance_code:
        system = SUBSTANCE_SYSTEMS.get(record.substance_system or "") or institution_system(
            institution, "substance-code"
        )
        codings.append(_recorded_coding(record, "substance_code", system, record.substance))
    elif (none := no_known_allergy(record.substance)) is not None:
        codings.append(_coding(SNOMED_SYSTEM, *none))  # the text stays as recorded
    # KR Core requires code.coding with system and code: claimed only when a substance code is recorded (its
    # code is the causative substance only, 원인물질만: a no-known-allergy statement claims no profile).
    resource = _base("AllergyIntolerance", record, PROFILE_ALLERGY if record.substance_code else None)
    # The record status is the clinical status (active, resolved, inactive) or entered-in-error; one the
    # connector could not map leaves clinicalStatus "not recorded" (counted, text kept verbatim).
    status = _status(record, "", "inactive", model.ALLERGY_CLINICAL_STATUSES, unknown="")
    verification = "entered-in-error" if status == "entered-in-error" else record.verification_status
    clinical = record.clinical_status
    if clinical is None and status in model.ALLERGY_CLINICAL_STATUSES:
        clinical = status
    if clinical is not None and clinical not in model.ALLERGY_CLINICAL_STATUSES:
        raise _fail(record, "clinical_status", "is not active, inactive or resolved")
    if verification is not None and verification not in model.ALLERGY_VERIFICATION_STATUSES:
        raise _fail(record, "verification_status", "is not an AllergyIntolerance verification status")
    if verification == "entered-in-error":
        pass  # clinicalStatus must be absent (ait-2)
    elif clinical:
        resource["clinicalStatus"] = _concept([_coding(ALLERGY_CLINICAL_SYSTEM, clinical, clinical.title())], None)
    else:
        resource["clinicalStatus"] = _dar_concept()  # ait-1 wants one; "not recorded" is what we know
    if verification:
        resource["verificationStatus"] = _concept(
            [_coding(ALLERGY_VERIFICATION_SYSTEM, verification, verification.title())], None
        )
    if record.kind:
        if record.kind not in ("allergy", "intolerance"):
            raise _fail(record, "kind", "is neither allergy nor intolerance")
        resource["type"] = record.kind
    if record.category:
        if record.category not in ("food", "medication", "environment", "biologic"):
            raise _fail(record, "category", "is not food, medication, environment or biologic")
        resource["category"] = [record.category]
    if record.criticality:
        if record.criticality not in ("low", "high", "unable-to-assess"):
            raise _fail(record, "criticality", "is not low, high or unable-to-assess")
        resource["criticality"] = record.criticality
    resource["code"] = _concept(codings, record.substance)
    resource["patient"] = _ref("Patient", record.patient_id)
    if record.encounter_id:
        resource["encounter"] = _ref("Encounter", record.encounter_id)
    if record.onset:
        resource["onsetDateTime"] = fhir_date(record.onset)
    if record.recorded:
        resource["recordedDate"] = fhir_date(record.recorded)
    if record.recorder_id:
        resource["recorder"] = _ref("Practitioner", record.recorder_id)
    if record.note:
        resource["note"] = [{"text": record.note}]
    if record.reaction or record.severity:
        if record.severity and record.severity not in ("mild", "moderate", "severe"):
            raise _fail(record, "severity", "is not mild, moderate or severe")
        reaction: dict[str, Any] = {"manifestation": [{"text": record.reaction or "기록 없음"}]}
        if record.severity:
            reaction["severity"] = record.severity
        resource["reaction"] = [reaction]
    return [resource]


def _immunization(record: model.Immunization, institution: model.Institution) -> list[dict[str, Any]]:
    if not (record.vaccine_code or record.vaccine_name):
        raise _fail(record, "vaccine_code/vaccine_name", "an immunization needs a vaccine code or name")
    codings = []
    if record.vaccine_code:
        system = VACCINE_SYSTEMS.get(record.vaccine_system or "") or institution_system(
            institution, VACCINE_LOCAL_SYSTEM
        )
        codings.append(_recorded_coding(record, "vaccine_code", system, record.vaccine_name))
    # KR Core requires a 예방접종 유형 (KDCA) coding and a dateTime occurrence.
    kdca = record.vaccine_code is not None and record.vaccine_system == "kdca"
    resource = _base("Immunization", record, PROFILE_IMMUNIZATION if kdca else None)
    resource["status"] = _status(record, "completed", allowed=model.STATUS_VALUES["immunization"], unknown=None)
    if resource["status"] == "not-done" and (record.status_reason or record.status_reason_code):
        code = record.status_reason_code
        if code is not None and code not in IMMUNIZATION_REASONS:
            raise _fail(record, "status_reason_code", "is not a v3-ActReason code for a vaccine not given")
        reason_codings = [_coding(V3_ACTREASON_SYSTEM, code, IMMUNIZATION_REASONS[code])] if code else []
        resource["statusReason"] = _concept(reason_codings, record.status_reason)
    resource["vaccineCode"] = _concept(codings, record.vaccine_name)
    resource["patient"] = _ref("Patient", record.patient_id)
    if record.encounter_id:
        resource["encounter"] = _ref("Encounter", record.encounter_id)
    resource["occurrenceDateTime"] = fhir_datetime(record.occurred)
    # Recorded by the clinic that gave (or did not give) it, unless the source says otherwise: a vaccination
    # given elsewhere (타기관 접종) is written down from the patient's word or a certificate.
    primary = record.primary_source if record.primary_source is not None else record.report_origin is None
    resource["primarySource"] = primary
    if record.report_origin:
        if primary:
            raise _fail(record, "report_origin", "is recorded for a vaccination the clinic's own record says it gave")
        resource["reportOrigin"] = {"text": record.report_origin}
    if record.manufacturer:
        resource["manufacturer"] = {"display": record.manufacturer}
    if record.lot_number:
        resource["lotNumber"] = record.lot_number
    if record.expiration:
        resource["expirationDate"] = fhir_date(record.expiration)
    if record.site:
        resource["site"] = {"text": record.site}
    if record.route:
        resource["route"] = {"text": record.route}
    if record.dose is not None:
        quantity = decimal_element("value", record.dose)
        if record.dose_unit:
            quantity["unit"] = record.dose_unit
            code = ucum_code(record.dose_unit)
            if code is not None:
                quantity.update({"system": UCUM_SYSTEM, "code": code})
        resource["doseQuantity"] = quantity
    if record.performer_id:
        resource["performer"] = [{"actor": _ref("Practitioner", record.performer_id)}]
    if record.subpotent:
        resource["isSubpotent"] = True
    if record.dose_number is not None:
        resource["protocolApplied"] = [_dose_number(record)]
        if "doseNumberString" in resource["protocolApplied"][0] and PROFILE_IMMUNIZATION in resource["meta"].get(
                "profile", ()):
            del resource["meta"]["profile"]  # KR Core: protocolApplied.doseNumber only positiveInt
    return [resource]


_POSITIVE_INT = re.compile(r"[1-9][0-9]{0,8}")


def _dose_number(record: model.Immunization) -> dict[str, Any]:
    """protocolApplied with the 차수 exactly as recorded: a number (or digits alone) as doseNumberPositiveInt,
    any other text ("2차", "추가") as doseNumberString: FHIR R4's doseNumber[x] is positiveInt or string."""
    number: Any = record.dose_number
    if isinstance(number, bool) or not isinstance(number, int | str):  # a connector's type = "date" / "decimal"
        raise _fail(record, "dose_number", "is neither a whole number nor text; leave out its type")
    if isinstance(number, int):
        if number < 1:
            raise _fail(record, "dose_number", "must be 1 or more")
        return {"doseNumberPositiveInt": number}
    if not number.strip():
        raise _fail(record, "dose_number", "is empty")
    if _POSITIVE_INT.fullmatch(number):
        return {"doseNumberPositiveInt": int(number)}
    return {"doseNumberString": number}


def _quantity(record: Any, field_name: str, unit: str | None) -> dict[str, Any]:
    value: Decimal = getattr(record, field_name)
    try:
        quantity = decimal_element("value", value)
    except ValueError:
        raise _fail(record, field_name, "is not a finite number") from None
    if unit:
        quantity["unit"] = unit  # as recorded
        code = ucum_code(unit)
        if code is not None:
            quantity.update({"system": UCUM_SYSTEM, "code": code})
    return quantity


def _vital_base(record: model.VitalSigns, slug: str, profile: str | None, loinc: str, display: str,
                status: str, effective: str | None = None) -> dict[str, Any]:
    # Literal dicts rather than _concept/_coding/_ref calls (a set has up to ten resources: a hot spot);
    # every resource gets its own dicts. ``effective``: fhir_datetime(record.observed), once per set.
    tag = _RETENTION_TAGS[record.retention.slug]
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": f"{record.id}-{slug}",  # one resource per measurement of the set
        "meta": {"profile": [profile], "tag": [tag]} if profile else {"tag": [tag]},
        "identifier": [source_identifier(record.provenance)],
        "status": status,
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY_SYSTEM, "code": "vital-signs",
                                  "display": "Vital Signs"}]}],
        "code": {"coding": [{"system": LOINC_SYSTEM, "code": loinc, "display": display}], "text": display}
        if display else {"coding": [{"system": LOINC_SYSTEM, "code": loinc}]},
        "subject": {"reference": f"Patient/{record.patient_id}"},
    }
    if record.encounter_id:
        resource["encounter"] = {"reference": f"Encounter/{record.encounter_id}"}
    resource["effectiveDateTime"] = fhir_datetime(record.observed) if effective is None else effective
    if record.performer_id:
        resource["performer"] = [{"reference": f"Practitioner/{record.performer_id}"}]
    return resource


#: FHIR R4's data-absent-reason code system (Observation.dataAbsentReason, the vital-signs profile's vs-2/vs-3).
DATA_ABSENT_REASON_SYSTEM = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
#: What a measurement recorded as text that is no number says of why there is none: the first code whose words the
#: text holds (a float's NaN and infinities as the code system's own codes); any other text (a typo, '>200', 0)
#: says only that the value is not known ("unknown").
_ABSENT_SAYS: tuple[tuple[str, str, re.Pattern[str]], ...] = (
    # what a float column holds that is no number (PostgreSQL float8 'NaN', 'Infinity'; Python writes inf, nan)
    ("not-a-number", "Not a Number (NaN)", re.compile(r"^\s*nan\s*$", re.IGNORECASE)),
    ("positive-infinity", "Positive Infinity (PINF)", re.compile(r"^\s*\+?inf(inity)?\s*$", re.IGNORECASE)),
    ("negative-infinity", "Negative Infinity (NINF)", re.compile(r"^\s*-inf(inity)?\s*$", re.IGNORECASE)),
    ("asked-declined", "Asked But Declined", re.compile(r"거부|거절|refus|declin", re.IGNORECASE)),
    ("not-performed", "Not Performed", re.compile(
        r"측정\s*(안|못|불가|않)|미\s*측정|안\s*함|안\s*했|못\s*함|못\s*했|불가|생략|not\s*(done|measured|performed|taken)",
        re.IGNORECASE)),
)
#: A recorded text the FHIR line can hold as it is (no control character, not only blanks).
_ABSENT_TEXT = re.compile(r"[^\x00-\x1f\x7f]*\S[^\x00-\x1f\x7f]*")


def absent_reason(text: str | None) -> dict[str, Any]:
    """Observation.dataAbsentReason of a measurement recorded as ``text`` that is no number (None: no text): the
    code its words clearly say (refused: asked-declined; not measured: not-performed), else unknown; the text as
    recorded in ``text`` (where a FHIR string can hold it: its cell is carried raw with its reason either way)."""
    code, display = "unknown", "Unknown"
    for said, said_display, pattern in _ABSENT_SAYS:
        if text is not None and pattern.search(text):
            code, display = said, said_display
            break
    concept: dict[str, Any] = {"coding": [{"system": DATA_ABSENT_REASON_SYSTEM, "code": code, "display": display}]}
    if text is not None and _ABSENT_TEXT.fullmatch(text) and unicodedata.is_normalized("NFC", text):
        concept["text"] = text.strip()
    return concept


def vital_measured(record: model.VitalSigns) -> bool:
    """Whether the set holds a measurement (to_fhir refuses one that holds none and has none ``absent``)."""
    return record.systolic is not None or record.diastolic is not None or any(
        getattr(record, kind) is not None for kind in model.VITAL_KINDS) or any(
        getattr(record, name) is not None for name in model.EYE_FIELDS)


def _vital_signs(record: model.VitalSigns, institution: model.Institution) -> list[dict[str, Any]]:
    status = _status(record, "final", allowed=model.STATUS_VALUES["vital_signs"])
    effective = fhir_datetime(record.observed)
    resources = []
    # a measurement recorded as no number, or every measurement of a set recorded NULL (the export sets ``absent``):
    # its own Observation with dataAbsentReason (FHIR R4 vital signs vs-2 / vs-3: a value or a reason it is absent)
    absent = dict(record.absent) if record.absent else {}
    if record.systolic is not None or record.diastolic is not None or "systolic" in absent or "diastolic" in absent:
        unit_code = ucum_code(record.bp_unit) if record.bp_unit else None
        bp_profile = PROFILE_BLOOD_PRESSURE if unit_code == "mm[Hg]" else None
        resource = _vital_base(record, "bp", bp_profile, "85354-9", "Blood pressure panel with all children optional",
                               status, effective)
        components = []
        for field_name, loinc, display in (("systolic", "8480-6", "Systolic blood pressure"),
                                           ("diastolic", "8462-4", "Diastolic blood pressure")):
            if getattr(record, field_name) is not None:
                components.append({
                    "code": _concept([_coding(LOINC_SYSTEM, loinc, display)], display),
                    "valueQuantity": _quantity(record, field_name, record.bp_unit),
                })
            elif field_name in absent:
                components.append({"code": _concept([_coding(LOINC_SYSTEM, loinc, display)], display),
                                   "dataAbsentReason": absent_reason(absent[field_name])})
        resource["component"] = components
        resources.append(resource)
    for kind, (loinc, display, slug) in model.VITAL_KINDS.items():
        if getattr(record, kind) is None and kind not in absent:
            continue
        unit = getattr(record, f"{kind}_unit")
        profile_and_unit = VITAL_PROFILES.get(kind)
        if profile_and_unit is None:
            profile: str | None = PROFILE_VITAL_SIGNS
        elif getattr(record, kind) is None:  # no quantity, so no unit the profile could refuse
            profile = profile_and_unit[0]
        else:
            profile = profile_and_unit[0] if unit and ucum_code(unit) == profile_and_unit[1] else None
        resource = _vital_base(record, slug, profile, loinc, display, status, effective)
        if getattr(record, kind) is None:
            resource["dataAbsentReason"] = absent_reason(absent[kind])
            resources.append(resource)
            continue
        resource["valueQuantity"] = _quantity(record, kind, unit)
        if kind == "temperature" and record.temperature_method:
            resource["method"] = {"text": record.temperature_method}
        if kind == "bmi" and record.bmi_status:
            resource["interpretation"] = [{"text": record.bmi_status}]
        if kind == "spo2":
            components = []
            if record.oxygen_flow_rate is not None:
                components.append({
                    "code": _concept([_coding(LOINC_SYSTEM, "3151-8", "Inhaled oxygen flow rate")], None),
                    "valueQuantity": _quantity(record, "oxygen_flow_rate", "L/min"),
                })
            if record.inhaled_oxygen is not None:
                components.append({
                    "code": _concept([_coding(LOINC_SYSTEM, "3150-0", "Inhaled oxygen concentration")], None),
                    "valueQuantity": _quantity(record, "inhaled_oxygen", "%"),
                })
            if components:
                resource["component"] = components
        resources.append(resource)
    resources += _eye_observations(record, status, effective, absent)
    if not resources:
        raise _fail(record, "measurements", "a vital-signs set needs at least one measurement")
    if record.note:
        for resource in resources:
            resource["note"] = [{"text": record.note}]
    return resources


#: An eye's slug in an eye measurement's Observation id (``<set>-iop-od``).
_EYE_SLUGS = {"right": "od", "left": "os", "both": "ou"}


def _eye_observations(record: model.VitalSigns, status: str, effective: str,
                      absent: dict[str, str | None]) -> list[dict[str, Any]]:
    """The set's eye measurements (:data:`~emr_exporter.model.EYE_KINDS`): one Observation per measurement and eye,
    category exam, ``bodySite`` the eye (:data:`EYE_SITES`: a ``_right`` field's the right eye, a ``_left`` field's
    the left, the others' the one ``eye`` names, with ``eye`` as written in :data:`RECORDED_EYE_URL`: ids
    ``<set>-iop-od`` / ``-iop-os`` for each eye's field, ``<set>-iop`` for the other); its LOINC code
    where one names it (intraocular pressure), else ``code.text`` alone. A number as ``valueQuantity`` (its unit only
    where recorded), visual acuity as ``valueString``, the text as written ('0.8', 'FC', '20/40'); a number recorded
    as no number its ``dataAbsentReason``. A measurement of the set's own eye where ``eye`` is not set (unreadable:
    the connector drops it) has no Observation: that row's readings stay in its raw line."""
    resources: list[dict[str, Any]] = []
    written_side = model.eye_side(record.eye) if record.eye else None
    tag = _RETENTION_TAGS[record.retention.slug]
    for name, (kind, side) in model.EYE_FIELDS.items():
        value = getattr(record, name)
        if value is None and name not in absent:
            continue
        if side is None and not record.eye:
            continue  # a reading of no eye (its side column unreadable: dropped by the connector)
        loinc, display, slug, number = model.EYE_KINDS[kind]
        code: dict[str, Any] = {"coding": [{"system": LOINC_SYSTEM, "code": loinc, "display": display}],
                                "text": display} if loinc else {"text": display}
        resource: dict[str, Any] = {
            "resourceType": "Observation",
            # one eye's own field: the eye in the id (a visit's VA_OD and VA_OS); a reading of the eye ``eye`` says:
            # one per set, whatever eye it is
            "id": f"{record.id}-{slug}-{_EYE_SLUGS[side]}" if side else f"{record.id}-{slug}",
            "meta": {"tag": [tag]},
            "identifier": [source_identifier(record.provenance)],
            "status": status,
            "category": [{"coding": [{"system": OBSERVATION_CATEGORY_SYSTEM, "code": "exam", "display": "Exam"}]}],
            "code": code,
            "subject": {"reference": f"Patient/{record.patient_id}"},
        }
        if record.encounter_id:
            resource["encounter"] = {"reference": f"Encounter/{record.encounter_id}"}
        resource["effectiveDateTime"] = effective
        if record.performer_id:
            resource["performer"] = [{"reference": f"Practitioner/{record.performer_id}"}]
        if value is None:
            resource["dataAbsentReason"] = absent_reason(absent[name])
        elif number:
            resource["valueQuantity"] = _quantity(record, name, record.iop_unit if kind == "iop" else None)
        else:
            resource["valueString"] = value
        if side is None:
            assert record.eye is not None
            resource["extension"] = [{"url": RECORDED_EYE_URL, "valueString": record.eye}]
            side = written_side
        if side is not None:
            resource["bodySite"] = _eye_site(side)
        resources.append(resource)
    return resources


def _coverage(record: model.Coverage, institution: model.Institution) -> list[dict[str, Any]]:
    _require_text(record, "payer_type")
    resource = _base("Coverage", record)
    if record.insured_number:
        resource["identifier"].insert(0, {"use": "official", "type": _concept(
            [_coding(V2_0203_SYSTEM, "MB", "Member Number")], "건강보험증번호"), "system": INSURED_NUMBER_SYSTEM,
            "value": record.insured_number})
    resource["status"] = _status(record, "active", allowed=model.STATUS_VALUES["coverage"], unknown=None)
    hira = HIRA_INSURANCE_TYPES.get(record.payer_type.replace(" ", ""))
    codings = [_coding(HIRA_INSURANCE_TYPES_SYSTEM, *hira)] if hira else []
    if _FHIR_CODE.fullmatch(record.payer_type):
        codings.append(_coding(PAYER_TYPE_SYSTEM, record.payer_type))
    resource["type"] = _concept(codings, record.payer_type)
    if record.subscriber_name:
        # a name (피보험자, 세대주), not an id: subscriberId is the identifier the payer gives the subscriber
        resource["subscriber"] = {"display": record.subscriber_name}
    resource["beneficiary"] = _ref("Patient", record.patient_id)
    if record.relationship:
        known = record.relationship in SUBSCRIBER_RELATIONSHIPS
        resource["relationship"] = _concept(
            [_coding(SUBSCRIBER_RELATIONSHIP_SYSTEM, record.relationship)] if known else [], record.relationship
        )
    if record.valid_from or record.valid_to:
        period = {}
        if record.valid_from:
            period["start"] = fhir_date(record.valid_from)
        if record.valid_to:
            period["end"] = fhir_date(record.valid_to)
        resource["period"] = period
    # The payer is not a resource of the bag: named, not referenced.
    resource["payor"] = [{"display": record.payer_name or record.payer_type}]
    if record.rank is not None:
        if record.rank < 1:
            raise _fail(record, "rank", "must be 1 or more")
        resource["order"] = record.rank
    if record.payer_class:
        resource["class"] = [{
            "type": _concept([_coding(COVERAGE_CLASS_SYSTEM, "plan", "Plan")], None),
            "value": record.payer_class,
        }]
    return [resource]


#: The Appointment statuses R4 lets go without start and end (invariant app-3).
_APPOINTMENT_UNPLACED = frozenset({"proposed", "cancelled", "waitlist"})


def _appointment_instant(value: dt.date | dt.datetime, end: bool) -> str:
    """Appointment.start/end are instants: a date-time as written (clinic time where naive); a booking kept to its
    day only spans that day (00:00 of the day to 00:00 of the next, clinic time), no hour invented within it."""
    if isinstance(value, dt.datetime):
        return fhir_datetime(value)
    day = value + dt.timedelta(days=1) if end else value
    return fhir_datetime(dt.datetime(day.year, day.month, day.day))


def _appointment(record: model.Appointment, institution: model.Institution) -> list[dict[str, Any]]:
    """예약 → Appointment (never an Encounter: a booking is no visit). ``start``/``end`` the booked time (a day
    alone: the whole day), ``minutesDuration`` as kept, the end where none is kept but the minutes are (a time with
    neither: ``requestedPeriod.start``, the day its place where the status needs one, R4's app-2/app-3); the patient
    and the doctor as participants (accepted: the clinic booked them); the department as ``specialty`` text, what
    was booked as ``serviceType`` text, the reason as ``description``, the memo as ``comment``."""
    resource = _base("Appointment", record)
    resource["status"] = _status(record, "booked", allowed=model.STATUS_VALUES["appointment"], unknown=None)
    if record.service_type:
        resource["serviceType"] = [{"text": record.service_type}]
    if record.department:
        resource["specialty"] = [{"text": record.department}]
    if record.reason:
        resource["description"] = record.reason
    if record.minutes is not None and record.minutes < 1:
        raise _fail(record, "minutes", "must be 1 or more")
    if isinstance(record.start, dt.datetime) and record.end is None and record.minutes is None:
        # A booked time with no end and no length: R4 wants start and end together (app-2), and only a proposed,
        # cancelled or waitlisted booking may have neither (app-3). No length is invented and the time is kept: it
        # is the requested period's start; a booking its status places spans the booked day (clinic time).
        resource["requestedPeriod"] = [{"start": fhir_datetime(record.start)}]
        if resource["status"] not in _APPOINTMENT_UNPLACED:
            day = (record.start.astimezone(KST) if record.start.tzinfo else record.start).date()
            resource["start"] = _appointment_instant(day, end=False)
            resource["end"] = _appointment_instant(day, end=True)
    else:
        resource["start"] = _appointment_instant(record.start, end=False)
    if record.end is not None:
        resource["end"] = _appointment_instant(record.end, end=True)
    elif not isinstance(record.start, dt.datetime):
        resource["end"] = _appointment_instant(record.start, end=True)
    elif record.minutes is not None:
        resource["end"] = fhir_datetime(record.start + dt.timedelta(minutes=record.minutes))
    if record.minutes is not None:
        resource["minutesDuration"] = record.minutes
    if record.created is not None:
        resource["created"] = fhir_datetime(record.created)
    if record.note:
        resource["comment"] = record.note
    participants = [{"actor": _ref("Patient", record.patient_id), "status": "accepted"}]
    if record.practitioner_id:
        participants.append({"actor": _ref("Practitioner", record.practitioner_id), "status": "accepted"})
    resource["participant"] = participants
    return [resource]


def _medication_statement(record: model.MedicationStatement, institution: model.Institution) -> list[dict[str, Any]]:
    if not (record.edi_code or record.local_code or record.name):
        raise _fail(record, "edi_code/local_code/name", "a medication needs a code or a name")
    resource = _base("MedicationStatement", record)
    # Without a recorded status, whether it is still taken is not known: unknown, not guessed.
    resource["status"] = _status(record, "unknown", "stopped", model.STATUS_VALUES["medication_statement"])
    codings = []
    if record.edi_code:
        codings.append(_recorded_coding(record, "edi_code", EDI_MEDICATION_SYSTEM, record.name))
    if record.local_code:
        codings.append(_recorded_coding(record, "local_code", institution_system(institution, "local-code"),
                                        record.name))
    resource["medicationCodeableConcept"] = _concept(codings, record.name)
    resource["subject"] = _ref("Patient", record.patient_id)
    if record.encounter_id:
        resource["context"] = _ref("Encounter", record.encounter_id)
    if record.started or record.ended:
        period = {}
        if record.started:
            period["start"] = fhir_date(record.started)
        if record.ended:
            period["end"] = fhir_date(record.ended)
        resource["effectivePeriod"] = period
    if record.recorded:
        resource["dateAsserted"] = fhir_date(record.recorded)
    if record.informant_id:
        resource["informationSource"] = _ref("Practitioner", record.informant_id)
    if record.note:
        resource["note"] = [{"text": record.note}]
    if record.dosage:
        resource["dosage"] = [{"text": record.dosage}]
    return [resource]


def _lab_report(record: model.LabReport, institution: model.Institution) -> list[dict[str, Any]]:
    if not (record.code or record.name):
        raise _fail(record, "code/name", "a lab report needs a panel code or name")
    codings = (
        [_recorded_coding(record, "code", institution_system(institution, "lab-code"), record.name)]
        if record.code else []
    )
    # KR Core wants code.coding (system and code): claimed only when the panel code is recorded.
    resource = _base("DiagnosticReport", record, PROFILE_LAB_REPORT if codings else None)
    resource["status"] = _status(record, "final", allowed=model.STATUS_VALUES["lab_report"])
    resource["category"] = [_concept([_coding(V2_0074_SYSTEM, "LAB", "Laboratory")], None)]
    resource["code"] = _concept(codings, record.name)
    resource["subject"] = _ref("Patient", record.patient_id)
    if record.encounter_id:
        resource["encounter"] = _ref("Encounter", record.encounter_id)
    resource["effectiveDateTime"] = fhir_datetime(record.effective)
    if record.issued is not None:
        issued = _instant(record.issued)
        if issued:
            resource["issued"] = issued
    if record.performer_id:
        resource["performer"] = [_ref("Practitioner", record.performer_id)]
    if record.result_ids:
        resource["result"] = [_ref("Observation", result_id) for result_id in record.result_ids]
    if record.conclusion:
        resource["conclusion"] = record.conclusion
    return [resource]


# --- dispatch ----------------------------------------------------------------------------------------

_MAPPERS: dict[type, Callable[[Any, model.Institution], list[dict[str, Any]]]] = {
    model.Practitioner: _practitioner,
    model.Patient: _patient,
    model.Encounter: _encounter,
    model.Diagnosis: _diagnosis,
    model.ChartNote: _chart_note,
    model.OrderLine: _order_line,
    model.ProcedureRecord: _procedure,
    model.LabResult: _lab_result,
    model.ImagingReport: _imaging_report,
    model.Certificate: _certificate,
    model.Receipt: _receipt,
    model.FeeLine: _fee_line,
    model.Attachment: _attachment,
    model.Allergy: _allergy,
    model.Immunization: _immunization,
    model.VitalSigns: _vital_signs,
    model.Coverage: _coverage,
    model.MedicationStatement: _medication_statement,
    model.LabReport: _lab_report,
    model.Payment: _payment,
    model.Appointment: _appointment,
}


def to_fhir(record: model.Record, *, institution: model.Institution) -> list[dict[str, Any]]:
    """The FHIR resources for one canonical record (one, except a vital-signs set: one per measurement).

    Raises :class:`~emr_exporter.errors.MappingError` for a record that cannot be written; the
    caller quarantines its row with that reason.
    """
    try:
        mapper = _MAPPERS[type(record)]
    except KeyError:
        raise TypeError(f"no FHIR mapping for {type(record).__name__}") from None
    resources = mapper(record, institution)
    recorded = getattr(record, "recorded_status", None)
    if recorded:  # the source's own status travels with every resource, whether it mapped or not
        for resource in resources:
            resource.setdefault("extension", []).append({"url": RECORDED_STATUS_URL, "valueString": recorded})
    return resources


# --- verification ------------------------------------------------------------------------------------


UNKNOWN_RESOURCE_TYPE = "resourceType: not a FHIR resource type"


def structure_validator() -> Callable[[dict[str, Any]], str | None] | None:
    """A function giving the first structure problem of a resource ("path: message"), or None when
    ``fhir.resources`` is not installed."""
    try:
        import pydantic
        from fhir.resources.R4B import get_fhir_model_class
    except ImportError:
        return None
    models: dict[str, Any] = {}

    def problem(resource: dict[str, Any]) -> str | None:
        resource_type = resource["resourceType"]
        model = models.get(resource_type)
        if model is None:
            try:
                model = models[resource_type] = get_fhir_model_class(resource_type)
            except (KeyError, ValueError):
                return UNKNOWN_RESOURCE_TYPE
        try:
            model.model_validate(resource)
        except pydantic.ValidationError as exc:
            errors = exc.errors(include_url=False)
            first = errors[0]
            path = ".".join(str(part) for part in first["loc"]) or "(resource)"
            message = str(first["msg"])
            value = first.get("input")
            if isinstance(value, str | int | float) and str(value) and str(value) in message:
                message = message.replace(str(value), "…")  # never echo the value
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            return f"{path}: {message}{more}"
        return None

    return problem


@functools.cache
def _shared_validator() -> Callable[[dict[str, Any]], str | None]:
    validator = structure_validator()
    if validator is None:
        raise ModuleNotFoundError("fhir.resources is not installed: pip install 'emr-exporter[verify]'")
    return validator


def validate_resource(resource: dict[str, Any]) -> None:
    """Check ``resource`` against the FHIR structure: the very check ``open`` runs on every NDJSON line
    (:func:`structure_validator`, used by :mod:`emr_exporter.bundle.fhir_check`).

    Raises ``ValueError`` naming the resource type, id and the first failing path; the message never
    contains the offending value.
    """
    resource_type = resource.get("resourceType")
    if not isinstance(resource_type, str):
        raise ValueError("not a FHIR resource: resourceType is missing")
    problem = _shared_validator()(resource)
    if problem is None:
        return
    if problem == UNKNOWN_RESOURCE_TYPE:
        raise ValueError(f"{resource_type}: not a FHIR resource type")
    raise ValueError(f"{resource_type}/{resource.get('id', '?')} is not valid FHIR: {problem}")
