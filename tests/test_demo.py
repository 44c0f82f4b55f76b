"""The synthetic demo clinic: deterministic, Korean (CP949), and dirty exactly where it says it is."""

from __future__ import annotations

import hashlib
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from emr_exporter import model
from emr_exporter.connectors.mapper import EntityMapper, key_text, load_hooks
from emr_exporter.connectors.spec import load_spec
from emr_exporter.demo.clinic import DemoClinic, create_demo_clinic

CONNECTOR_DIR = Path(__file__).resolve().parents[1] / "connectors" / "demo"


@pytest.fixture(scope="module")
def clinic(tmp_path_factory: pytest.TempPathFactory) -> DemoClinic:
    return create_demo_clinic(tmp_path_factory.mktemp("demo") / "clinic.db", patients=200)


def dump_digest(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        digest = hashlib.sha256()
        for statement in conn.iterdump():
            digest.update(statement.encode("utf-8") + b"\n")
        return digest.hexdigest()
    finally:
        conn.close()


def tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(file.relative_to(root).as_posix().encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()


def query(clinic: DemoClinic, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(clinic.path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def test_same_seed_gives_identical_database_and_files(tmp_path: Path) -> None:
    first = create_demo_clinic(tmp_path / "a" / "clinic.db", patients=40, seed=7)
    second = create_demo_clinic(tmp_path / "b" / "clinic.db", patients=40, seed=7)
    other_seed = create_demo_clinic(tmp_path / "c" / "clinic.db", patients=40, seed=8)

    assert dump_digest(first.path) == dump_digest(second.path)
    assert tree_digest(first.attachments_root) == tree_digest(second.attachments_root)
    assert first.planted_defects == second.planted_defects
    assert first.source_rows == second.source_rows
    assert dump_digest(first.path) != dump_digest(other_seed.path)


def test_rebuilding_in_place_replaces_the_database(tmp_path: Path) -> None:
    path = tmp_path / "clinic.db"
    create_demo_clinic(path, patients=30)
    digest = dump_digest(path)
    create_demo_clinic(path, patients=30)
    assert dump_digest(path) == digest


def test_source_rows_match_the_tables(clinic: DemoClinic) -> None:
    for table, count in clinic.source_rows.items():
        assert query(clinic, f"SELECT COUNT(*) FROM {table}") == [(count,)]
    assert clinic.source_rows["PT_MASTER"] == 200 + 5  # 5 defective patient rows on top
    assert clinic.source_rows["CLINIC_INFO"] == 1
    # 4 doctors, plus 4 rows with odd keys: empty, padded, the padded twin of D002, lower-case d001.
    assert clinic.source_rows["DOCTOR"] == 4 + 4
    assert query(clinic, "SELECT DR_ID FROM DOCTOR WHERE DR_ID IN ('', 'D005 ', 'D002 ', 'd001', 'D002')") == [
        ("",), ("D002",), ("D002 ",), ("D005 ",), ("d001",)]


def test_scaling_changes_row_counts_proportionally(tmp_path: Path) -> None:
    small = create_demo_clinic(tmp_path / "s" / "clinic.db", patients=100)
    large = create_demo_clinic(tmp_path / "l" / "clinic.db", patients=400)
    small_total = sum(small.source_rows.values())
    large_total = sum(large.source_rows.values())
    assert 3.4 < large_total / small_total < 4.6
    for table in ("VISIT", "DIAG", "CHART_REC", "RCPT", "FEE_DTL"):
        assert 3.0 < large.source_rows[table] / small.source_rows[table] < 5.0, table
    # The number of planted defects does not grow with the clinic.
    assert len(small.planted_defects) == len(large.planted_defects)


def test_cp949_text_includes_syllables_euc_kr_cannot_decode(clinic: DemoClinic) -> None:
    defective_names = {int(d.key) for d in clinic.planted_defects if d.table == "PT_MASTER"}
    names = [
        (pt_no, bytes(name))
        for pt_no, name in query(clinic, "SELECT PT_NO, PT_NM FROM PT_MASTER")
        if pt_no not in defective_names
    ]
    decoded = [name.decode("cp949") for _, name in names]  # every clean name is valid CP949
    assert all(2 <= len(text) <= 4 for text in decoded)
    cp949_only = []
    for _, name in names:
        try:
            name.decode("euc_kr")
        except UnicodeDecodeError:
            cp949_only.append(name.decode("cp949"))
    assert cp949_only, "some names must need the CP949 extension"
    assert any(ch in "똠햏뷁쀍쌰" for text in cp949_only for ch in text)
    for syllable in "똠햏뷁쀍쌰":  # the whole set is outside EUC-KR
        with pytest.raises(UnicodeDecodeError):
            syllable.encode("cp949").decode("euc_kr")
    # Chart notes too: 똠양꿍 is stored as CP949 bytes, and EUC-KR cannot read them.
    history = "똠양꿍을 먹은 후 복통과 설사 4회.".encode("cp949")
    notes = query(clinic, "SELECT HPI FROM CHART_REC WHERE HPI = ?", history)
    assert notes
    assert bytes(notes[0][0]).decode("cp949").startswith("똠양꿍")
    with pytest.raises(UnicodeDecodeError):
        bytes(notes[0][0]).decode("euc_kr")


def test_rrns_are_shape_valid_consistent_and_checksum_invalid(clinic: DemoClinic) -> None:
    rows = query(clinic, "SELECT BIRTH_YMD, SEX_CD, JUMIN_NO FROM PT_MASTER WHERE CHART_NO NOT LIKE 'X%' "
                 "AND PT_NO <> ?", clinic.broken_field_patient)  # that one's birth date is broken on purpose
    weights = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)
    for birth, sex, rrn in rows:
        assert len(rrn) == 13 and rrn.isdigit()
        assert rrn[:6] == birth[2:]
        century_sex = int(rrn[6])
        assert century_sex in ((1, 3) if sex == "M" else (2, 4))
        assert (century_sex >= 3) == (birth[:2] == "20")
        valid_check = (11 - sum(int(d) * w for d, w in zip(rrn[:12], weights, strict=True)) % 11) % 10
        assert int(rrn[12]) != valid_check  # synthetic: never a real person's number


def test_planted_defects_are_in_the_database(clinic: DemoClinic) -> None:
    by_reason = Counter(d.reason_code for d in clinic.planted_defects)
    # The clinical record's tables (demo/clinical.py) add 2 invalid dates, 1 orphan and 1 missing substance.
    assert by_reason == {
        "invalid-date": 3 + 1, "orphan": 3 + 1, "duplicate": 2, "required-missing": 3 + 1, "bad-encoding": 1,
        "path-outside-root": 2, "file-missing": 2, "ambiguous-key": 1,
    }
    # Defects in optional fields: the rows are kept without the field (field-level quarantine).
    field_level = Counter(d.reason_code for d in clinic.planted_field_defects)
    assert field_level == {"invalid-date": 2 + 1, "bad-encoding": 2, "lossy-text": 3, "control-characters": 1}
    keys = {"PT_MASTER": "PT_NO", "VISIT": "VISIT_NO", "DIAG": "DIAG_NO", "CHART_REC": "REC_NO",
            "ORD_DTL": "ORD_NO", "LAB_RSLT": "RSLT_NO", "IMG_RPT": "RPT_NO", "RCPT": "RCPT_SEQ",
            "ATTACH_FILE": "ATT_NO", "VITAL_SIGN": "VS_NO", "VACCINATION": "VAC_NO", "ALLERGY": "ALG_NO",
            "INS_HIST": "INS_NO"}
    for defect in clinic.planted_defects + clinic.planted_field_defects:
        assert defect.entity in model.ENTITY_TYPES
        if defect.reason_code == "ambiguous-key":  # 'D002' and 'D002 ': told apart only by a space
            assert query(clinic, "SELECT COUNT(*) FROM DOCTOR WHERE trim(DR_ID) = ?", defect.key) == [(2,)]
            continue
        (value,) = query(
            clinic, f"SELECT {defect.column} FROM {defect.table} WHERE {keys[defect.table]} = ?", int(defect.key)
        )[0]
        if defect.reason_code == "control-characters":
            assert bytes(value).decode("cp949") == "급성\x07비인두염\x0b\x00[감기]\x1b"
        elif defect.reason_code == "invalid-date":
            assert value in ("00000000", "20230230", "20190231150000", "20210931", "20230231090000", "20220230",
                             "19850229")
        elif defect.reason_code == "required-missing":
            assert value is None
        elif defect.reason_code == "bad-encoding":
            with pytest.raises(UnicodeDecodeError):
                bytes(value).decode("cp949")
        elif defect.reason_code == "lossy-text":
            text = value.decode("ascii") if isinstance(value, bytes) else value
            assert set(text) == {"?"}
        elif defect.reason_code == "orphan":
            parent_table, parent_key = ("PT_MASTER", "PT_NO") if defect.table == "VISIT" else ("VISIT", "VISIT_NO")
            assert query(clinic, f"SELECT COUNT(*) FROM {parent_table} WHERE {parent_key} = ?", value) == [(0,)]
        elif defect.reason_code == "duplicate":
            earlier = query(clinic, "SELECT MIN(PT_NO) FROM PT_MASTER WHERE CHART_NO = ?", value)[0][0]
            assert earlier < int(defect.key)
        elif defect.reason_code == "path-outside-root":
            resolved = (clinic.attachments_root / value).resolve()
            assert clinic.attachments_root.resolve() not in resolved.parents
        elif defect.reason_code == "file-missing":
            assert not (clinic.attachments_root / value).exists()
            assert (clinic.attachments_root / value).resolve().is_relative_to(clinic.attachments_root.resolve())


def test_defective_rows_have_no_children(clinic: DemoClinic) -> None:
    for defect in clinic.planted_defects:
        if defect.table == "PT_MASTER":
            assert query(clinic, "SELECT COUNT(*) FROM VISIT WHERE PT_NO = ?", int(defect.key)) == [(0,)]
        elif defect.table == "VISIT":
            for child in ("DIAG", "CHART_REC", "ORD_DTL", "RCPT", "FEE_DTL", "ATTACH_FILE"):
                assert query(clinic, f"SELECT COUNT(*) FROM {child} WHERE VISIT_NO = ?", int(defect.key)) == [(0,)]
        elif defect.table == "RCPT":
            assert query(clinic, "SELECT COUNT(*) FROM FEE_DTL WHERE RCPT_SEQ = ?", int(defect.key)) == [(0,)]
        elif defect.table == "CHART_REC":
            assert query(clinic, "SELECT COUNT(*) FROM CHART_REC WHERE ORG_REC_NO = ?", int(defect.key)) == [(0,)]


def test_attachment_files_exist_under_the_root_with_the_right_magic(clinic: DemoClinic) -> None:
    assert clinic.attachments_root == clinic.path.parent / "attachments"
    missing = {d.key for d in clinic.planted_defects if d.table == "ATTACH_FILE"}
    magic = {"application/pdf": b"%PDF-", "image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}
    rows = query(clinic, "SELECT ATT_NO, MIME_TP, FILE_DATA, FILE_PATH FROM ATTACH_FILE")
    stored = on_disk = 0
    for att_no, mime, blob, relative in rows:
        if str(att_no) in missing:
            continue
        assert (blob is None) != (relative is None)
        content = bytes(blob) if blob is not None else (clinic.attachments_root / relative).read_bytes()
        assert content.startswith(magic[mime])
        if mime == "application/pdf":
            assert content.rstrip().endswith(b"%%EOF")
        if mime == "image/jpeg":
            assert content.endswith(b"\xff\xd9")
        stored += blob is not None
        on_disk += relative is not None
    assert stored > 0 and on_disk > 0


def test_receipts_add_up(clinic: DemoClinic) -> None:
    rows = query(
        clinic,
        "SELECT R.TOT_AMT, R.INS_SELF_AMT + R.INS_CORP_AMT + R.FULL_SELF_AMT + R.NONINS_AMT,"
        " (SELECT SUM(TOT_AMT) FROM FEE_DTL F WHERE F.RCPT_SEQ = R.RCPT_SEQ) FROM RCPT R"
        " WHERE R.INS_CORP_AMT IS NOT NULL",  # pre-2016 receipts have no 공단부담금 split (a readiness gap)
    )
    assert query(clinic, "SELECT COUNT(*) FROM RCPT WHERE INS_CORP_AMT IS NULL AND RCPT_YMD >= '2016'") == [(0,)]
    with_lines = [row for row in rows if row[2] is not None]
    assert len(with_lines) == len(rows) - 1  # the one receipt with a planted bad date has no lines
    for total, parts, line_sum in with_lines:
        assert total == parts == line_sum
    bad_dates = {int(d.key) for d in clinic.planted_defects if d.table == "RCPT"}
    numbers = query(clinic, "SELECT RCPT_SEQ, RCPT_NO, RCPT_YMD FROM RCPT")
    assert all(number[:6] == ymd[:6] and number[6] == "-" for seq, number, ymd in numbers if seq not in bad_dates)


def map_everything(clinic: DemoClinic) -> tuple[Counter[str], list[model.QuarantinedRow]]:
    """Run every source row through the demo connector's mapping, the way an export reads them.

    Reference existence is computed here (the pipeline does it with LEFT JOINs); the mapping itself is
    the framework's.
    """
    spec = load_spec(CONNECTOR_DIR)
    hook = load_hooks(spec)
    conn = sqlite3.connect(clinic.path)
    conn.row_factory = sqlite3.Row
    quarantined_keys: dict[str, set[str]] = {}
    existing_keys: dict[str, set[str]] = {}
    exported: Counter[str] = Counter()
    quarantined: list[model.QuarantinedRow] = []
    try:
        for name, entity in spec.entities.items():
            existing_keys[name] = {key_text(k) for (k,) in conn.execute(f"SELECT {entity.key} FROM {entity.table}")}
            duplicates = {
                field: {
                    value
                    for (value,) in conn.execute(
                        f"SELECT {entity.fields[field].column} FROM {entity.table}"
                        f" GROUP BY 1 HAVING COUNT(*) > 1"
                    )
                }
                for field in entity.unique
            }
            mapper = EntityMapper(
                spec, entity, attachments_root=clinic.attachments_root,
                quarantined_keys=quarantined_keys, duplicate_values=duplicates, hook=hook,
            )
            bad = quarantined_keys.setdefault(name, set())
            for source_row in conn.execute(f"SELECT * FROM ({entity.inner_sql}) ORDER BY {entity.key}"):
                row = {column.lower(): source_row[column] for column in source_row.keys()}  # noqa: SIM118
                for field_name, field in entity.fields.items():
                    if field.type == "ref" and field.column and row[field.column.lower()] is not None:
                        found = key_text(row[field.column.lower()]) in existing_keys[field.ref or ""]
                        row["_ref_" + field_name] = 1 if found else None
                result = mapper.map_row(row)
                if isinstance(result, model.QuarantinedRow):
                    quarantined.append(result)
                    bad.add(result.provenance.key)
                else:
                    exported[name] += 1
    finally:
        conn.close()
    return exported, quarantined


def test_every_planted_defect_is_quarantined_with_its_reason(clinic: DemoClinic) -> None:
    _, quarantined = map_everything(clinic)
    got = {(q.entity, q.provenance.table, q.provenance.key, q.reason_code) for q in quarantined}
    # Keys told apart only by spaces are found by the export, not the row mapper (tests/test_export.py).
    planted = {(d.entity, d.table, d.key, d.reason_code) for d in clinic.planted_defects
               if d.reason_code != "ambiguous-key"}
    assert planted <= got
    # The quarantined rows carry the source row verbatim (CP949 bytes stay bytes).
    bad_bytes = [q for q in quarantined if q.reason_code == "bad-encoding"]
    assert bad_bytes and all(any(isinstance(v, bytes) for v in q.raw.values()) for q in bad_bytes)


def test_the_connector_quarantines_exactly_the_planted_defects(clinic: DemoClinic) -> None:
    exported, quarantined = map_everything(clinic)
    got = {(q.entity, q.provenance.table, q.provenance.key, q.reason_code) for q in quarantined}
    planted = {(d.entity, d.table, d.key, d.reason_code) for d in clinic.planted_defects
               if d.reason_code != "ambiguous-key"}  # found by the export (tests/test_export.py)
    assert got == planted
    assert len(quarantined) == len(planted)
    # Reconciliation: every source row is exported or quarantined.
    spec = load_spec(CONNECTOR_DIR)
    for name, entity in spec.entities.items():
        bad = sum(1 for q in quarantined if q.entity == name)
        assert exported[name] + bad == clinic.source_rows[entity.table], name
