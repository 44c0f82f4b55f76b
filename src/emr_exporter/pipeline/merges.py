"""Merged charts (환자 통합): which Patient replaces which, decided over the whole patient table before it streams.

A clinic that registered one person twice and later merged the charts keeps the old chart, saying which chart it
was merged into (a ``merged_into`` / ``MERGE_PT_NO`` column, or a merge table the connector reads with an
``expr``): the patient's ``merged_into`` field, the survivor's chart number (or key) as recorded. The export reads
those values first (few rows), finds each target among the patients (by chart number, else by key), and gives
every Patient its FHIR R4 ``link``: the old chart ``replaced-by`` the survivor (and ``active`` false), the survivor
``replaces`` each chart merged into it. The old chart's own records keep pointing at the old chart, as the source
has them: nothing is re-pointed.

What cannot be a link is never a crash nor a lost row: the patient is exported without the link and its
``merged_into`` is carried in data/raw/columns with a field defect naming why (:data:`MERGE_REASONS`). A chain
(A into B, B into C) is no defect: each chart is linked as recorded (A replaced-by B, B replaced-by C), its value
carried as an ordinary link's is; the plan only counts them (``MergePlan.chains``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping

from emr_exporter import model

#: Field-defect codes of ``merged_into`` (data/raw/columns ``field_defects``), and what each means.
MERGE_REASONS: dict[str, str] = {
    "merge-target-missing": "names a chart no patient of the table has: no link, the value kept as recorded",
    "merge-self": "names the patient's own chart: no link, the value kept as recorded",
    "merge-cycle": "leads back to this chart (A into B, B into A): no chart survives, so no link; the value kept "
                   "as recorded",
    "merge-target-quarantined": "names a chart whose row was quarantined (it is in data/raw): no link, the value "
                                "kept as recorded",
}


@dataclasses.dataclass(frozen=True, slots=True)
class MergePlan:
    """The links of one patient section, by source key (``Provenance.key``)."""

    replaced_by: Mapping[str, str]  # old chart's key -> the survivor's record id
    replaces: Mapping[str, tuple[str, ...]]  # survivor's key -> record ids of the charts merged into it
    notes: Mapping[str, str]  # key -> MERGE_REASONS code
    linked: frozenset[str]  # keys of every patient with a link (either way): their rows refer to each other
    #: keys of the charts merged into a chart that was itself merged on (A of A into B into C): linked as recorded,
    #: no defect; counted for the connector check only
    chains: frozenset[str] = frozenset()

    def apply(self, record: model.Patient) -> tuple[model.Patient, str | None]:
        """The record with its links (a replaced chart inactive), and the defect code of its ``merged_into``."""
        key = record.provenance.key
        note = self.notes.get(key)
        if key not in self.linked:
            return record, note
        survivor = self.replaced_by.get(key)
        changes: dict[str, object] = {"replaces": self.replaces.get(key, ())}
        if survivor is not None:
            changes.update(replaced_by=survivor, active=False)
        return dataclasses.replace(record, **changes), note  # type: ignore[arg-type]


def plan_merges(connector: str, table: str, merged: Mapping[str, str], targets: Mapping[str, str],
                failed: Collection[str] = ()) -> MergePlan:
    """The links for ``merged`` (key -> merged_into text, non-empty), given ``targets`` (merged_into text -> the
    key of the patient it names) and the keys of patients whose rows ``failed`` (quarantined: no link to them)."""
    target: dict[str, str] = {}
    notes: dict[str, str] = {}
    for old, value in merged.items():
        if old in failed:
            continue  # its row is quarantined whole: no resource to give a link to
        found = targets.get(value)
        if found is None:
            notes[old] = "merge-target-missing"
        elif found == old:
            notes[old] = "merge-self"
        elif found in failed:
            notes[old] = "merge-target-quarantined"
        else:
            target[old] = found
    cycle: set[str] = set()
    for old in target:
        seen = {old}
        current = target[old]
        while current in target and current not in seen:
            seen.add(current)
            current = target[current]
        if current == old:
            cycle.add(old)
    for old in cycle:
        del target[old]
        notes[old] = "merge-cycle"
    chains = frozenset(old for old, found in target.items() if found in target or found in cycle)
    replaced_by = {old: model.record_id(connector, table, found) for old, found in target.items()}
    back: dict[str, list[str]] = {}
    for old in sorted(target):
        back.setdefault(target[old], []).append(model.record_id(connector, table, old))
    replaces = {key: tuple(sorted(ids)) for key, ids in back.items()}
    return MergePlan(replaced_by, replaces, notes, frozenset(target) | frozenset(target.values()), chains)
