"""The KR Core 2.0.0 profile rules written down in docs/fhir-mapping.md ("KR Core profile rules"), as code.

A resource that claims a profile in ``meta.profile`` must have the elements the profile requires and the
fixed values it fixes (read from the profile definitions in hl7korea/krocre input/fsh/profiles). The
FHIR R4 structure itself is checked by :func:`emr_exporter.pipeline.fhir.validate_resource`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emr_exporter.pipeline import fhir

Rule = Callable[[dict[str, Any]], list[str]]


def _codings(concept: dict[str, Any] | None, system: str | None = None) -> list[dict[str, Any]]:
    return [c for c in (concept or {}).get("coding", []) if system is None or c.get("system") == system]


def _has_coding(concept: dict[str, Any] | None, system: str, code: str | None = None) -> bool:
    return any(code is None or c.get("code") == code for c in _codings(concept, system))


def _all_codings_complete(concept: dict[str, Any] | None) -> bool:
    codings = _codings(concept)
    return bool(codings) and all(c.get("system") and c.get("code") for c in codings)


def _patient_ref(resource: dict[str, Any], element: str) -> list[str]:
    ref = (resource.get(element) or {}).get("reference", "")
    return [] if ref.startswith("Patient/") else [f"{element} must reference a Patient"]


def _allergy(r: dict[str, Any]) -> list[str]:
    problems = _patient_ref(r, "patient")
    if not _all_codings_complete(r.get("code")):
        problems.append("code 1..1 with coding.system and coding.code")
    return problems


def _immunization(r: dict[str, Any]) -> list[str]:
    problems = _patient_ref(r, "patient")
    if r.get("status") not in ("completed", "entered-in-error", "not-done"):
        problems.append("status")
    if not _has_coding(r.get("vaccineCode"), fhir.KRCORE_VACCINATION_SYSTEM):
        problems.append("vaccineCode.coding[VcntType] 1..* from krcore-vcnt-types")
    if "occurrenceDateTime" not in r:
        problems.append("occurrence[x] only dateTime")
    for applied in r.get("protocolApplied", []):
        if "doseNumberPositiveInt" not in applied:
            problems.append("protocolApplied.doseNumber only positiveInt")
    return problems


def _value_or_absent(r: dict[str, Any], grouped: bool = False) -> list[str]:
    """FHIR R4 vital signs vs-2 (vs-3 for a component): a value or a reason it is absent, never both (obs-6)."""
    values = [k for k in r if k.startswith("value")]
    if values and "dataAbsentReason" in r:
        return ["obs-6: dataAbsentReason only where there is no value[x]"]
    if not grouped and not values and "dataAbsentReason" not in r:
        return ["vs-2/vs-3: value[x] or dataAbsentReason"]
    return []


def _vital(loinc: str | None, ucum: str | None) -> Rule:
    def check(r: dict[str, Any]) -> list[str]:
        problems = _patient_ref(r, "subject")
        if not _has_coding({"coding": [c for cat in r.get("category", []) for c in cat.get("coding", [])]},
                           fhir.OBSERVATION_CATEGORY_SYSTEM, "vital-signs"):
            problems.append("category[VitalSigns] = observation-category#vital-signs")
        if not _has_coding(r.get("code"), fhir.LOINC_SYSTEM, loinc):
            problems.append(f"code.coding[LOINC] = {loinc or 'a LOINC code'}")
        problems += _value_or_absent(r, "component" in r or "hasMember" in r)
        if ucum is not None and "dataAbsentReason" not in r:  # value[x] 0..1: its rules bind only where it is
            quantity = r.get("valueQuantity") or {}
            if "value" not in quantity or quantity.get("system") != fhir.UCUM_SYSTEM or quantity.get("code") != ucum:
                problems.append(f"valueQuantity.value 1.., system UCUM, code {ucum}")
        return problems
    return check


def _blood_pressure(r: dict[str, Any]) -> list[str]:
    problems = _vital("85354-9", None)(r)
    for component in r.get("component", []):
        codes = {c.get("code") for c in _codings(component.get("code"), fhir.LOINC_SYSTEM)}
        problems += _value_or_absent(component)
        if codes & {"8480-6", "8462-4"} and "dataAbsentReason" not in component:
            q = component.get("valueQuantity") or {}
            if "value" not in q or q.get("system") != fhir.UCUM_SYSTEM or q.get("code") != "mm[Hg]":
                problems.append("component[Systolic/Diastolic].valueQuantity: value, UCUM mm[Hg]")
    return problems


def _lab_report(r: dict[str, Any]) -> list[str]:
    problems = _patient_ref(r, "subject")
    categories = {"coding": [c for cat in r.get("category", []) for c in cat.get("coding", [])]}
    if not _has_coding(categories, fhir.V2_0074_SYSTEM, "LAB"):
        problems.append("category[Laboratory] = v2-0074#LAB")
    if not _all_codings_complete(r.get("code")):
        problems.append("code.coding.system 1.. and code.coding.code 1..")
    if "status" not in r:
        problems.append("status")
    return problems


def _kinds() -> dict[str, tuple[str, str, str]]:
    from emr_exporter import model

    return model.VITAL_KINDS


def _build_rules() -> dict[str, Rule]:
    rules: dict[str, Rule] = {
        fhir.PROFILE_ALLERGY: _allergy,
        fhir.PROFILE_IMMUNIZATION: _immunization,
        fhir.PROFILE_VITAL_SIGNS: _vital(None, None),
        fhir.PROFILE_BLOOD_PRESSURE: _blood_pressure,
        fhir.PROFILE_LAB_REPORT: _lab_report,
    }
    for kind, (profile, ucum) in fhir.VITAL_PROFILES.items():
        rules[profile] = _vital(_kinds()[kind][0], ucum)
    return rules


RULES = _build_rules()


def check_profiles(resource: dict[str, Any]) -> list[str]:
    """Problems with ``resource`` against the rules of every KR Core profile it claims (that has rules here)."""
    problems = []
    for profile in resource.get("meta", {}).get("profile", []):
        rule = RULES.get(profile)
        if rule is not None:
            problems.extend(f"{profile.rsplit('/', 1)[-1]}: {p}" for p in rule(resource))
    return problems


def assert_conforms(resource: dict[str, Any]) -> None:
    fhir.validate_resource(resource)
    problems = check_profiles(resource)
    assert not problems, f"{resource['resourceType']}/{resource['id']}: {problems}"
