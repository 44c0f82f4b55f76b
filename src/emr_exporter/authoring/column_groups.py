"""Repeated column groups of one wide row: a small vendor's program keeps a visit's drug orders, fee lines or a
patient's allergies as numbered groups of columns on the row itself (``RX1_CODE, RX1_NAME, RX1_DOSE … RX15_…``,
``수가1코드, 수가1금액 …``, ``ALLERGY1..ALLERGY5``) instead of rows of a child table. This module finds the groups
by their names alone and says which field of which entity each part of a group is; the scaffold writes one section
per group number reading the wide row again (docs/connectors.md, "Repeated column groups")."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

#: ``<stem><n>_<part>`` (RX1_DOSE, DX1_CODE), ``<stem><n><part>`` in Hangul (수가1금액, 진단1코드), ``<stem><n>``
#: (ALLERGY3, TEL2); n from 1 to 99. ``<stem>_<part><n>`` (RX_CD1, RX_NM1) is the last form's stem split at its
#: last ``_``, taken where that makes groups of two parts or more.
_NUMBERED = re.compile(r"(?P<stem>[A-Za-z가-힣][A-Za-z가-힣_]*?)_?(?P<n>[1-9]\d?)(?:_(?P<part>[A-Za-z][A-Za-z_]*)|"
                       r"(?P<ko>[가-힣]+))?")


@dataclass(frozen=True)
class ColumnGroup:
    """One numbered group: its stem (as written, upper case), its number, and its columns by part (upper case;
    '' for a group of one column)."""

    stem: str
    number: int
    parts: dict[str, str]


def column_groups(names: Sequence[str]) -> dict[str, list[ColumnGroup]]:
    """The repeated groups among a table's column ``names``: stem → its groups in number order. A stem counts only
    with two numbers or more (RX1 and RX2), and never where a number skips (no RX3 with RX1 and RX4: a count
    or a version, not a list). A column is in one group at most."""
    plain: dict[str, dict[int, dict[str, str]]] = {}
    split: dict[str, dict[int, dict[str, str]]] = {}
    for name in names:
        found = re.fullmatch(_NUMBERED, name)
        if found is None:
            continue
        stem, number = found.group("stem").upper(), int(found.group("n"))
        part = (found.group("part") or found.group("ko") or "").upper()
        plain.setdefault(stem, {}).setdefault(number, {})[part] = name
        if not part and "_" in stem.strip("_"):
            head, _, tail = stem.rstrip("_").rpartition("_")
            split.setdefault(head, {}).setdefault(number, {})[tail] = name
    out: dict[str, list[ColumnGroup]] = {}
    taken: set[str] = set()
    for series in (split, plain):
        for stem, numbers in sorted(series.items()):
            if series is split and len({p for parts in numbers.values() for p in parts}) < 2:
                continue  # SANG_CD1, SANG_CD2: one part, the plain stem's series
            if len(numbers) < 2 or sorted(numbers) != list(range(1, len(numbers) + 1)):
                continue
            groups = [ColumnGroup(stem, n, {p: c for p, c in numbers[n].items() if c not in taken})
                      for n in sorted(numbers)]
            if any(not g.parts for g in groups):
                continue
            taken.update(c for g in groups for c in g.parts.values())
            out[stem] = groups
    return out


#: The parts of a group and the field each is, per entity: (field, part patterns (upper case, whole part))
GROUP_PARTS: dict[str, tuple[tuple[str, str], ...]] = {
    "order_line": (("code", r"CODE|CD|EDI(_?CD|_?CODE)?|ID|코드"), ("name", r"NAME|NM|명|명칭|약품명|약명"),
                   ("dose", r"DOSE|QTY|AMT|ONCE|1회(투여)?량|투여량|용량"),
                   ("frequency", r"TIMES|FREQ|CNT|(1일)?(투여)?횟수|회수"), ("days", r"DAYS?|ILSU|(총)?(투여)?일수"),
                   ("dose_unit", r"UNIT|단위"), ("route", r"ROUTE|용법")),
    "fee_line": (("code", r"CODE|CD|EDI(_?CD|_?CODE)?|코드"), ("name", r"NAME|NM|명|명칭|수가명"),
                 ("total", r"AMT|AMOUNT|TOT(AL)?(_?AMT)?|금액|총액"),
                 ("unit_price", r"PRICE|UNIT_?PR(ICE)?|DANGA|단가"),
                 ("count", r"QTY|CNT|COUNT|수량|횟수"), ("days", r"DAYS?|일수")),
    "allergy": (("substance", r"|NAME|NM|명|원인|물질|SUBSTANCE"), ("reaction", r"REACT(ION)?|반응|증상"),
                ("substance_code", r"CODE|CD|코드")),
}

#: A Hangul stem that says a drug: 약 alone, or a word of drugs in it (투약, 약품, 약제, 약물, 복약; 처방약, 복용약 …),
#: never the syllable 약 inside another word (예약 a booking, 특약 an insurance rider, 요약 a summary, 계약)
_DRUG_HANGUL = r"약|.*(투약|약품|약제|약물|복약|(처방|복용|원내|원외|내복|외용|주사|상비)약).*"

#: The words of an ASCII stem that say a drug (a group of ``ORD`` or 처방 is an order of any kind)
_DRUG_WORDS = frozenset({"RX", "MED", "MEDI", "DRUG", "PRESC", "YAK"})

#: The stems that say what a group is: entity → (words of an ASCII stem, a pattern a whole Hangul stem matches);
#: in this order, the first that fits (DRUG_ALLERGY, 약물알레르기: a patient's allergies to drugs, no drug order;
#: DRUG_FEE, 약제비: the fee of drugs, no drug order)
GROUP_STEMS: dict[str, tuple[frozenset[str], str]] = {
    "allergy": (frozenset({"ALLERGY", "ALLERGIES", "ALLERGEN", "ALG", "ALRG", "ALLER"}), r".*(알레르기|알러지).*"),
    "fee_line": (frozenset({"FEE", "SUGA", "CHARGE", "BILL"}), r".*(수가|진료비|약제비|약값).*"),
    "order_line": (_DRUG_WORDS | {"ORD", "ORDER", "CHEOBANG"}, rf".*처방.*|{_DRUG_HANGUL}"),
}

#: Words of a stem that say a group of people or places, never of orders, fees or allergies (MED_DEPT1 진료과,
#: MED_DR1 진료의, RX_DOCTOR1 처방의: MED is the care a clinic gives as often as a drug)
_NOT_A_GROUP = frozenset({"DEPT", "DR", "DOC", "DOCTOR", "USER", "EMP", "NURSE", "STAFF", "WARD", "ROOM"})
_NOT_A_GROUP_HANGUL = r".*(진료과|의사|담당|직원|처방의|진료의).*"


def group_entity(stem: str) -> str | None:
    """The entity a group's stem names (RX: order_line, 수가: fee_line, ALLERGY: allergy), or None."""
    words = set(stem.strip("_").split("_"))
    hangul = "".join(c for c in stem if not c.isascii())
    if words & _NOT_A_GROUP or (hangul and re.fullmatch(_NOT_A_GROUP_HANGUL, hangul)):
        return None
    for entity, (ascii_words, pattern) in GROUP_STEMS.items():
        if words & ascii_words or (hangul and re.fullmatch(pattern, hangul)):
            return entity
    return None


def drug_stem(stem: str) -> bool:
    """Whether an order group's stem says a drug (RX, YAK, 투약, 약 …), not an order of any kind (ORD, 처방)."""
    hangul = "".join(c for c in stem if not c.isascii())
    return bool(set(stem.strip("_").split("_")) & _DRUG_WORDS or (hangul and re.fullmatch(_DRUG_HANGUL, hangul)))


def group_fields(entity: str, group: ColumnGroup) -> dict[str, str]:
    """Field → column of ``group`` for ``entity`` (:data:`GROUP_PARTS`), each part read by one field at most; the
    parts no field reads stay raw cells of the section."""
    out: dict[str, str] = {}
    for part, column in group.parts.items():
        for name, pattern in GROUP_PARTS[entity]:
            if name not in out and re.fullmatch(pattern, part):
                out[name] = column
                break
    return out
