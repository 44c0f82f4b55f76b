"""The demo clinic's clinical record beyond visits and bills: allergies, immunizations, vital signs,
coverage history, the medication list, lab reports, admissions and nursing records.

Kept apart from :mod:`emr_exporter.demo.clinic` (own tables, own random stream) so that the rows of the
other tables are exactly what they were before these were added. Everything is invented: vaccine lot
numbers, insurance card numbers and names are synthetic. Statuses of every kind are planted, including
dirty ones: a status code the connector does not know (kept as recorded and counted, never guessed),
and rows with a bad date, a missing substance or a visit that does not exist (quarantined).
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Protocol


class _Builder(Protocol):
    """What this module needs of :class:`emr_exporter.demo.clinic._Builder` (no import: no cycle)."""

    def key(self, table: str) -> int: ...
    def add(self, table: str, row: tuple[object, ...]) -> None: ...
    def plant(self, table: str, key: object, reason: str, column: str, *, field_level: bool = False) -> None: ...
    def name(self, index: int) -> bytes: ...
    def certificate(self, visit_no: int, pt_no: int, chart_no: str, when: dt.date, kind: str, dr_id: str,
                    discharge: dt.date | None) -> None: ...

# (KDCA 예방접종 유형 code, name, route, site kind, lot prefix, from age (months), until age (months), doses)
_CHILD_VACCINES: tuple[tuple[str, str, str, str, str, int, int, int], ...] = (
    ("18", "B형간염(HepB)", "IM", "thigh", "HB", 0, 12, 3),
    ("20", "디프테리아/파상풍/백일해 (DTaP)", "IM", "thigh", "DT", 2, 84, 5),
    ("25", "폴리오 (IPV)", "IM", "thigh", "IP", 2, 84, 4),
    ("29", "홍역/유행성이하선염/풍진 (MMR)", "SC", "arm", "MM", 12, 84, 2),
    ("30", "수두 (VAR)", "SC", "arm", "VA", 12, 24, 1),
    ("31", "A형간염(HepA, 소아용)", "IM", "arm", "HA", 12, 36, 2),
    ("32", "일본뇌염 (IJEV, 불활성화 백신)", "IM", "arm", "JE", 12, 156, 5),
)
_FLU = ("35", "인플루엔자 (IIV)", "IM", "arm", "FL")
_PNEUMO = ("27", "폐렴구균(PCV, PPSV)", "IM", "arm", "PP")
_ZOSTER = ("43", "대상포진(HZV)", "SC", "arm", "ZO")
_MAKERS = ("가상백신(주)", "예시바이오", "샘플제약")
_SITES = {"arm": ("좌측 삼각근", "우측 삼각근"), "thigh": ("좌측 대퇴부 전외측", "우측 대퇴부 전외측")}
_REFUSALS = (("PATOBJ", "보호자 거부"), ("PATOBJ", "본인 거부"), ("MEDPREC", "발열로 접종 연기"))

# (name, code, code kind, type D/F/E, reaction)
_ALLERGENS: tuple[tuple[str, str | None, str | None, str, str], ...] = (
    ("페니실린계 항생제", "J01C", "ATC", "D", "두드러기"),
    ("세팔로스포린계 항생제", "J01DB", "ATC", "D", "전신 발진"),
    ("아스피린", "N02BA01", "ATC", "D", "호흡곤란, 천명"),
    ("이부프로펜", "M01AE01", "ATC", "D", "안면 부종"),
    ("요오드화 조영제", "V08AB", "ATC", "D", "전신 두드러기, 혈압 저하"),
    ("설파메톡사졸", "J01EC01", "ATC", "D", "피부 발진"),
    ("예시아목시실린캡슐500mg", "645302150", "EDI", "D", "두드러기"),
    ("새우", None, None, "F", "입술 부종"),
    ("집먼지진드기", None, None, "E", "비염 악화"),
)
# (name, EDI code, dosage as recorded)
_HOME_MEDS: tuple[tuple[str, str | None, str], ...] = (
    ("가상아스피린프로텍트정100mg", "644900010", "1정 1일 1회 아침"),
    ("예시와파린정2mg", "645100020", "1정 1일 1회 저녁"),
    ("샘플로수바스타틴정10mg", "645200030", "1정 1일 1회"),
    ("데모레보티록신정50mcg", "645300040", "1정 1일 1회 공복"),
    ("한약(타 기관 처방)", None, "1포 1일 2회"),
)
_NURSING_NOTES = (
    "활력징후 안정. 식이 양호. 특이사항 없음.",
    "수액 주입 중. 주입 부위 발적 없음. 통증 호소 없음.",
    "밤사이 수면 양호. 기침 감소함.",
    "퇴원 교육 시행함: 복약 및 외래 방문 일정 설명.",
)
_RELATIONS = ("1", "2", "3", "4")  # 본인, 배우자, 자녀, 부모
_ORPHAN_VISIT = 910_000_001  # a visit number no row has (the other planted orphans use 900_000_000 + n)
_SHOWCASE_KINDS = ("후유장애진단서", "사망진단서", "사산증명서")
#: The tables of the clinical record (ADM_INFO is read with VISIT).
CLINICAL_TABLES = ("ALLERGY", "VACCINATION", "VITAL_SIGN", "INS_HIST", "MED_HIST", "LAB_RPT", "NURSE_REC", "ADM_INFO")
# Planted rows the demo connector must quarantine (kind → (table, reason, column)).
CLINICAL_DEFECTS: dict[str, tuple[str, str, str]] = {
    "vital-bad-date": ("VITAL_SIGN", "invalid-date", "MSR_DTTM"),
    "vaccination-orphan": ("VACCINATION", "orphan", "VISIT_NO"),
    "allergy-no-substance": ("ALLERGY", "required-missing", "ALG_NM"),
    "coverage-bad-date": ("INS_HIST", "invalid-date", "FROM_YMD"),
}


def _months(birth: dt.date, when: dt.date) -> int:
    return (when.year - birth.year) * 12 + when.month - birth.month - (1 if when.day < birth.day else 0)


class ClinicalBuilder:
    """Adds the clinical-record rows while :class:`~emr_exporter.demo.clinic._Builder` walks patients and visits."""

    def __init__(self, builder: _Builder, rng: random.Random, patients: int) -> None:
        self.b = builder
        self.rng = rng
        self.defect_plan: dict[int, list[str]] = {}
        for kind in CLINICAL_DEFECTS:
            self.defect_plan.setdefault(rng.randrange(patients), []).append(kind)
        # One status of each kind the connector does not know, planted where the value set has "unknown".
        self.unknown_statuses = {"ALLERGY": False, "MED_HIST": False, "LAB_RPT": False, "VITAL_SIGN": False}
        self.showcase: list[tuple[int, str, int, dt.date, str, bool]] = []  # pt, chart, visit, date, doctor, male
        self.pt_no = 0
        self.index = 0
        self.birth = dt.date(1980, 1, 1)
        self.male = False
        self.visits = 0
        self.doses: dict[str, int] = {}
        self.flu_seasons: set[int] = set()
        self.once: set[str] = set()

    # -- per patient --
    def begin_patient(self, pt_no: int, birth: dt.date, male: bool, first_visit: dt.date, index: int) -> None:
        self.pt_no, self.birth, self.male, self.index = pt_no, birth, male, index
        self.visits = 0
        self.doses = {}
        self.flu_seasons = set()
        self.once = set()
        self.coverage(first_visit)
        rng = self.rng
        if rng.random() < 0.12:
            for allergen in rng.sample(_ALLERGENS, 1 if rng.random() < 0.7 else 2):
                self.allergy(allergen, first_visit)
        if rng.random() < 0.15 and _months(birth, first_visit) > 40 * 12:
            for medicine in rng.sample(_HOME_MEDS, rng.randrange(1, 3)):
                self.home_medication(medicine, first_visit)

    def end_patient(self) -> None:
        pass

    def _status(self, table: str, usual: str, others: tuple[tuple[str, float], ...], unknown: str) -> str | None:
        """``usual`` (or None) mostly, sometimes another status; once per table, a status nobody mapped."""
        if not self.unknown_statuses.get(table, True) and self.rng.random() < 0.05:
            self.unknown_statuses[table] = True
            return unknown
        draw = self.rng.random()
        for status, chance in others:
            if draw < chance:
                return status
            draw -= chance
        return usual

    def coverage(self, first_visit: dt.date) -> None:
        rng = self.rng
        start = first_visit - dt.timedelta(days=rng.randrange(30, 3000))
        kinds = [rng.choices(("H", "M1", "M2", "V"), (85, 6, 6, 3))[0]]
        if rng.random() < 0.3:  # coverage changed once (e.g. 건강보험 → 의료급여 2종)
            kinds.append(rng.choice([k for k in ("H", "M1", "M2") if k != kinds[0]]))
        change = first_visit + dt.timedelta(days=rng.randrange(30, 2000))
        periods = [(kinds[0], start, change - dt.timedelta(days=1) if len(kinds) > 1 else None)]
        if len(kinds) > 1:
            periods.append((kinds[1], change, None))
        if rng.random() < 0.05:  # a car-accident claim: 자동차보험 for a few weeks
            accident = first_visit + dt.timedelta(days=rng.randrange(0, 1000))
            periods.append(("A", accident, accident + dt.timedelta(days=rng.randrange(14, 60))))
        for kind, valid_from, valid_to in periods:
            relation = "1" if rng.random() < 0.6 else rng.choice(_RELATIONS[1:])
            holder = None if relation == "1" else self.b.name(self.index + 7).decode("cp949")
            payer = {"A": "가상화재해상보험", "M1": "가상구청", "M2": "가상구청"}.get(kind, "국민건강보험공단")
            status = self._status("INS_HIST", "Y", (("N", 0.02), ("E", 0.01)), "?")
            self.b.add("INS_HIST", (
                self.b.key("INS_HIST"), self.pt_no, kind, payer, f"5{rng.randrange(10**9, 10**10)}", holder,
                relation, f"{valid_from:%Y%m%d}", f"{valid_to:%Y%m%d}" if valid_to else None, status,
            ))

    def allergy(self, allergen: tuple[str, str | None, str | None, str, str], when: dt.date) -> None:
        rng = self.rng
        name, code, code_kind, kind, reaction = allergen
        status = self._status("ALLERGY", "A", (("R", 0.1), ("I", 0.05), ("E", 0.03)), "?")
        onset = when - dt.timedelta(days=rng.randrange(100, 5000))
        self.b.add("ALLERGY", (
            self.b.key("ALLERGY"), self.pt_no, None, name, code, code_kind, kind, reaction,
            rng.choice("123"), status, rng.choice("CCCU"), f"{onset:%Y%m%d}" if rng.random() < 0.6 else None,
            f"{when:%Y%m%d}", "D001",
        ))

    def home_medication(self, medicine: tuple[str, str | None, str], when: dt.date) -> None:
        rng = self.rng
        name, edi, dosage = medicine
        status = self._status("MED_HIST", "1", (("2", 0.15), ("3", 0.1), ("9", 0.02)), "7")
        started = when - dt.timedelta(days=rng.randrange(30, 2000))
        ended = when + dt.timedelta(days=rng.randrange(30, 400)) if status in ("2", "3") else None
        self.b.add("MED_HIST", (
            self.b.key("MED_HIST"), self.pt_no, None, name, edi, dosage, f"{started:%Y%m%d}",
            f"{ended:%Y%m%d}" if ended else None, status, f"{when:%Y%m%d}",
        ))

    # -- per visit --
    def visit(self, visit_no: int, when: dt.date, inpatient: bool, discharge: dt.date | None, dr_id: str,
              lab_keys: range) -> None:
        self.visits += 1
        ymd = f"{when:%Y%m%d}"
        self.vitals(visit_no, when)
        self.vaccinations(visit_no, when, dr_id)
        if lab_keys:  # the report lists its results' numbers (portable: no GROUP_CONCAT needed)
            status = self._status("LAB_RPT", "F", (("P", 0.05), ("C", 0.05), ("A", 0.02), ("X", 0.02)), "Z")
            self.b.add("LAB_RPT", (self.b.key("LAB_RPT"), visit_no, self.pt_no, ymd + "170000", "LP01",
                                   "외래 혈액·화학 검사", status, dr_id, ",".join(map(str, lab_keys))))
        if inpatient and discharge is not None:
            route = "응급실" if self.rng.random() < 0.3 else "외래"
            result = self.rng.choices("123", (90, 7, 3))[0]
            self.b.add("ADM_INFO", (visit_no, route, result))
            day = when
            while day <= discharge:
                note = self.rng.choice(_NURSING_NOTES).encode("cp949")
                self.b.add("NURSE_REC", (self.b.key("NURSE_REC"), visit_no, self.pt_no, f"{day:%Y%m%d}080000", note))
                day += dt.timedelta(days=1)
        if self.visits == 1:
            if self.index < 40 and len(self.showcase) < len(_SHOWCASE_KINDS):
                kind = _SHOWCASE_KINDS[len(self.showcase)]
                if kind != "사산증명서" or not self.male:
                    self.showcase.append((self.pt_no, f"{self.index + 1:08d}", visit_no, when, dr_id, self.male))
            for kind in self.defect_plan.get(self.index, ()):
                self.defect(kind, visit_no, when)

    def vitals(self, visit_no: int, when: dt.date) -> None:
        rng = self.rng
        months = _months(self.birth, when)
        child = months < 13 * 12
        sbp = dbp = None
        if not child:
            sbp = rng.randrange(100, 166)
            dbp = rng.randrange(60, min(sbp - 20, 105))
        weight = height = bmi = None
        if child or rng.random() < 0.3:
            if child:
                height_cm = 50 + min(months, 156) * 0.6 + rng.uniform(-3, 3)
                weight_kg = 3.3 + min(months, 156) * 0.25 + rng.uniform(-1, 1)
            else:
                height_cm = rng.uniform(150, 185)
                weight_kg = rng.uniform(45, 95)
            weight, height = f"{weight_kg:.1f}", f"{height_cm:.1f}"
            bmi = f"{weight_kg / (height_cm / 100) ** 2:.1f}"
        status = self._status("VITAL_SIGN", "F", (("C", 0.01), ("E", 0.01)), "Q")
        measured = f"{when:%Y%m%d}{rng.randrange(9, 18):02d}{rng.randrange(60):02d}00"
        self.b.add("VITAL_SIGN", (
            self.b.key("VITAL_SIGN"), visit_no, self.pt_no, measured,
            sbp, dbp, rng.randrange(58, 106), rng.randrange(14, 23) if rng.random() < 0.6 else None,
            f"{rng.uniform(36.0, 37.9):.1f}", weight, height, bmi,
            rng.randrange(94, 101) if rng.random() < 0.5 else None, status,
        ))

    def vaccinations(self, visit_no: int, when: dt.date, dr_id: str) -> None:
        rng = self.rng
        months = _months(self.birth, when)
        if months < 13 * 12:
            due = [v for v in _CHILD_VACCINES if v[5] <= months <= v[6] and self.doses.get(v[0], 0) < v[7]]
            if due and rng.random() < 0.5:
                code, name, route, site, prefix, _, _, _ = rng.choice(due)
                self.vaccination(visit_no, when, dr_id, (code, name, route, site, prefix))
            return
        season = when.year if when.month >= 9 else when.year - 1
        if when.month in (10, 11, 12) and season not in self.flu_seasons and rng.random() < 0.35:
            self.flu_seasons.add(season)
            self.vaccination(visit_no, when, dr_id, _FLU)
        elif months >= 65 * 12 and "27" not in self.once and rng.random() < 0.2:
            self.once.add("27")
            self.vaccination(visit_no, when, dr_id, _PNEUMO)
        elif months >= 50 * 12 and "43" not in self.once and rng.random() < 0.03:
            self.once.add("43")
            self.vaccination(visit_no, when, dr_id, _ZOSTER)

    def vaccination(self, visit_no: int | None, when: dt.date, dr_id: str,
                    vaccine: tuple[str, str, str, str, str], vac_no: int | None = None) -> int:
        rng = self.rng
        code, name, route, site_kind, prefix = vaccine
        draw = rng.random()
        status, reason_code, reason = "1", None, None
        if draw < 0.04:
            status = "2"
            reason_code, reason = rng.choice(_REFUSALS)
        elif draw < 0.05:
            status = "9"  # entered in error (wrong patient)
        dose = None
        if status == "1":
            dose = self.doses.get(code, 0) + 1
            self.doses[code] = dose
        key = vac_no if vac_no is not None else self.b.key("VACCINATION")
        lot = f"{prefix}{when:%y}{rng.choice('ABCDEF')}-{rng.randrange(1000, 10000)}" if status != "2" else None
        expiry = f"{when.year + 1}{when:%m}28" if lot else None
        self.b.add("VACCINATION", (
            key, self.pt_no, visit_no, f"{when:%Y%m%d}", code, name, dose, lot, expiry,
            rng.choice(_MAKERS) if lot else None, rng.choice(_SITES[site_kind]) if status != "2" else None,
            route, dr_id, status, reason_code, reason,
        ))
        return key

    def defect(self, kind: str, visit_no: int, when: dt.date) -> None:
        table, reason, column = CLINICAL_DEFECTS[kind]
        b = self.b
        if kind == "vital-bad-date":
            key = b.key(table)
            b.add(table, (key, visit_no, self.pt_no, "20230231090000", 120, 80, 72, None, "36.5", None, None,
                          None, None, "F"))
        elif kind == "vaccination-orphan":
            key = b.key(table)
            b.add(table, (key, self.pt_no, _ORPHAN_VISIT, f"{when:%Y%m%d}", "35", "인플루엔자 (IIV)", 1,
                          "FL24A-0001", None, "가상백신(주)", "좌측 삼각근", "IM", "D001", "1", None, None))
        elif kind == "allergy-no-substance":
            key = b.key(table)
            b.add(table, (key, self.pt_no, None, None, None, None, "D", "두드러기", "1", "A", "C", None,
                          f"{when:%Y%m%d}", "D001"))
        else:  # coverage-bad-date
            key = b.key(table)
            b.add(table, (key, self.pt_no, "H", "국민건강보험공단", "51234567890", None, "1", "20220230", None, "Y"))
        # FROM_YMD is optional: since field-level quarantine the coverage period is kept without its start
        # (the raw text carried with the reason), a field defect rather than a quarantined row.
        b.plant(table, key, reason, column, field_level=kind == "coverage-bad-date")

    # -- at the end --
    def finish(self) -> None:
        """Kept copies of the certificates only some clinics issue (사망진단서 …), so each can be previewed."""
        for (pt_no, chart_no, visit_no, when, dr_id, _male), kind in zip(self.showcase, _SHOWCASE_KINDS,
                                                                          strict=False):
            self.b.certificate(visit_no, pt_no, chart_no, when, kind, dr_id, None)
