"""`emr-export scaffold` on the demo clinic: the guessed connector loads, maps the obvious tables, exports and
reconciles, and neither written file holds a patient's name, RRN or phone number."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from emr_exporter.authoring.scaffold import ScaffoldOutcome, write_scaffold
from emr_exporter.cli import main
from emr_exporter.connectors import load_spec
from emr_exporter.demo.clinical import CLINICAL_TABLES
from emr_exporter.errors import ConfigError
from emr_exporter.jobs.service import ExportRequest, run_export
from emr_exporter.sources.address import SourceAddress

NAME = "guessed"


@pytest.fixture(scope="module")
def scaffolded(demo_clinic, tmp_path_factory: pytest.TempPathFactory) -> ScaffoldOutcome:
    out = tmp_path_factory.mktemp("scaffold")
    return write_scaffold(NAME, out, SourceAddress(database=Path(demo_clinic.path)), sample_rows=500)


def _demo_patients(path: Path) -> list[tuple[str, str, str]]:
    """(name, RRN, phone) of every demo patient, names decoded from CP949 as the EMR stores them."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    conn.text_factory = bytes
    try:
        rows = conn.execute("SELECT PT_NM, JUMIN_NO, TEL FROM PT_MASTER").fetchall()
    finally:
        conn.close()
    out = []
    for name, rrn, phone in rows:
        out.append((
            (name or b"").decode("cp949", "replace").strip(),
            (rrn or b"").decode("ascii", "replace").strip(),
            (phone or b"").decode("utf-8", "replace").strip(),
        ))
    return out


def test_scaffold_loads_and_guesses_the_demo_tables(scaffolded: ScaffoldOutcome) -> None:
    spec = load_spec(scaffolded.folder)
    assert spec.name == NAME
    assert spec.encoding == "cp949"
    assert spec.date_formats == ("%Y%m%d",)
    assert spec.datetime_formats == ("%Y%m%d%H%M%S",)
    patient = spec.entities["patient"]
    assert (patient.table, patient.key) == ("PT_MASTER", "PT_NO")
    assert patient.fields["chart_number"].column == "CHART_NO"
    assert (patient.fields["rrn"].column, patient.fields["rrn"].type) == ("JUMIN_NO", "rrn")
    assert (patient.fields["birth_date"].column, patient.fields["birth_date"].type) == ("BIRTH_YMD", "date")
    assert patient.unique == ("chart_number",)
    encounter = spec.entities["encounter"]
    assert (encounter.table, encounter.key) == ("VISIT", "VISIT_NO")
    assert (encounter.fields["patient_id"].column, encounter.fields["patient_id"].ref) == ("PT_NO", "patient")
    assert spec.entities["diagnosis"].fields["code"].column == "KCD_CD"
    assert spec.entities["fee_line"].fields["receipt_id"].ref == "receipt"
    assert spec.entities["chart_note"].fields["recorded"].type == "datetime"
    assert spec.engines == ("sqlite", "sqlite-odbc")
    # DIAG has no date of its own: the visit's date is joined in (LEFT JOIN, every row kept) for the KCD edition.
    diagnosis = spec.entities["diagnosis"]
    assert diagnosis.query is not None and "LEFT JOIN VISIT" in diagnosis.query
    assert diagnosis.fields["kcd_edition"].type == "kcd_edition"
    assert spec.institution_query is not None and "CLINIC_INFO" in spec.institution_query
    # The largest tables fingerprint the EMR.
    assert spec.detect_tables[:2] == ("FEE_DTL", "ORD_DTL")


def test_every_mapping_in_the_scaffold_says_why(scaffolded: ScaffoldOutcome) -> None:
    lines = scaffolded.connector_toml.read_text(encoding="utf-8").splitlines()
    mapping = re.compile(r"^(table|key|query|encoding|date_formats|tables|\w+ = \{ column)")
    checks = []
    for number, line in enumerate(lines):
        if mapping.match(line):
            before = number - 1
            if lines[before].startswith("# CHECK ("):  # what the contractor must check, after the guess's why
                checks.append(lines[before])
                before -= 1
            assert lines[before].startswith("# GUESS ("), f"line {number + 1} has no GUESS comment: {line}"
    # the STAT columns of the vaccinations, vital signs, coverages and lab reports (codes no rule reads) mapped all
    # the same, with no map: each value kept as recorded, carried raw as status-unread and named by connector check
    # (was: not mapped, the column carried raw and every record the usual status, a vaccination not given or
    # entered in error 'completed', nothing said)
    unknown, usual = "the resource's status unknown", "the resource's usual status (its value set has no unknown)"
    assert checks == [f"# CHECK ({values} of STAT not read: kept as recorded, {kept}; add it to the map if you know "
                      "what it says)" for values, kept in (
                          ("1, 2, 9", usual), ("C, E, F, Q", unknown), ("E, N, Y", usual),
                          ("A, C, F, P, X, Z", unknown))]
    assert lines.count('status = { column = "STAT", type = "status" }') == 4


def test_scaffold_dry_run_export_reconciles(scaffolded: ScaffoldOutcome, demo_clinic) -> None:
    outcome = run_export(ExportRequest(
        connector=NAME, source=SourceAddress(database=Path(demo_clinic.path)), connectors_dirs=(scaffolded.folder.parent,),
        attachments_root=demo_clinic.attachments_root,
    ))
    assert outcome.dry_run and outcome.reconciliation.balanced
    totals = outcome.reconciliation.totals
    # The clinical-record tables with a canonical entity of their own are guessed too; the nursing records (a
    # chart-note section) and admissions (joined to the visit) are not, and are carried raw with every other
    # table no entity reads (logs, EMR_META, ...).
    fates = {t["name"]: t["fate"] for t in outcome.reconciliation.inventory}
    assert set(fates) == {table.lower() for table in demo_clinic.source_rows}
    assert {t: fates[t.lower()] for t in CLINICAL_TABLES} == {
        "ALLERGY": "entities", "VACCINATION": "entities", "VITAL_SIGN": "entities", "INS_HIST": "entities",
        "MED_HIST": "entities", "LAB_RPT": "entities", "NURSE_REC": "carried", "ADM_INFO": "carried"}
    by_entity = {e["entity"]: e for e in outcome.reconciliation.to_dict()["entities"]}
    for entity in ("allergy", "immunization", "vital_signs", "coverage", "medication_statement", "lab_report"):
        assert by_entity[entity]["exported"] > 0, entity
    assert totals["source_rows"] == sum(
        n for table, n in demo_clinic.source_rows.items() if fates[table.lower()] == "entities")
    assert outcome.reconciliation.table_totals["carried"] == sum(
        n for table, n in demo_clinic.source_rows.items() if fates[table.lower()] == "carried") > 0
    assert totals["exported"] + totals["quarantined"] == totals["source_rows"]
    # Every planted dirty row is still caught (the scaffold may quarantine more, never fewer), but the diagnosis whose
    # code is NULL: it has its name, and the scaffold exports a diagnosis written only as text as a Condition of that
    # text (the demo's own connector declares its code required, and quarantines it)
    planted = [d for d in demo_clinic.planted_defects if (d.table, d.column) != ("DIAG", "KCD_CD")]
    assert len(planted) == len(demo_clinic.planted_defects) - 1
    assert totals["quarantined"] >= len(planted)
    assert outcome.institution.code == "99350017"


def test_written_files_hold_no_patient_data(scaffolded: ScaffoldOutcome, demo_clinic) -> None:
    written = "\n".join(p.read_text(encoding="utf-8") for p in (scaffolded.connector_toml, scaffolded.profile_md))
    digits_only = re.sub(r"\D", "", written)
    patients = _demo_patients(Path(demo_clinic.path))
    assert len(patients) == demo_clinic.source_rows["PT_MASTER"]
    checked_names = 0
    for name, rrn, phone in patients:
        if len(name) >= 2 and "\ufffd" not in name:
            assert name not in written
            checked_names += 1
        if len(rrn) == 13 and rrn.isdigit():
            assert rrn not in digits_only
            assert f"{rrn[:6]}-{rrn[6]}" not in written  # not even masked (800101-1******)
        if phone:
            assert phone not in written
    assert checked_names > 150


def test_profile_lists_tables_counts_and_shapes(scaffolded: ScaffoldOutcome, demo_clinic) -> None:
    profile = scaffolded.profile_md.read_text(encoding="utf-8")
    assert f"| PT_MASTER | {demo_clinic.source_rows['PT_MASTER']} |" in profile
    assert re.search(r"\| JUMIN_NO \| TEXT \|  \| [\d.]+ \| \d+ \| 13 \| .*\brrn\b", profile)
    assert re.search(r"\| PT_NM \| BLOB \|.*cp949-text", profile)
    assert re.search(r"\| KCD_CD \| TEXT \|.*\bkcd\b", profile)
    table = next(t for t in scaffolded.profile.tables if t.name == "FEE_DTL")
    assert table.row_count == demo_clinic.source_rows["FEE_DTL"] > 500
    assert table.sampled_rows == 500  # never the whole table


def test_scaffold_refuses_to_overwrite(scaffolded: ScaffoldOutcome, demo_clinic) -> None:
    with pytest.raises(ConfigError, match="already exists"):
        write_scaffold(NAME, scaffolded.folder.parent, SourceAddress(database=Path(demo_clinic.path)))


def test_unknown_database_with_nothing_recognisable(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE WIDGETS (A INTEGER PRIMARY KEY, B TEXT)")
    conn.execute("INSERT INTO WIDGETS VALUES (1, 'x')")
    conn.commit()
    conn.close()
    with pytest.raises(ConfigError, match="no connector could be guessed"):
        write_scaffold("other", tmp_path / "out", SourceAddress(database=path))
    assert not (tmp_path / "out" / "other" / "connector.toml").exists()


def test_nothing_usable_still_leaves_a_draft_and_the_profile(tmp_path: Path) -> None:
    # Before: the error alone ("… Write connector.toml by hand"), nothing written: not the profile, not the
    # guesses made (a person table with a sex and a birth date, an encounter table with its date).
    path = tmp_path / "eav.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE person (person_id INTEGER PRIMARY KEY, gender TEXT, birthdate TEXT)")
    conn.execute("CREATE TABLE encounter (encounter_id INTEGER PRIMARY KEY, encounter_type INTEGER, "
                 "encounter_datetime TEXT)")
    conn.executemany("INSERT INTO person VALUES (?, ?, ?)", [(i, "MF"[i % 2], f"1980-01-{i:02d}") for i in range(1, 9)])
    conn.executemany("INSERT INTO encounter VALUES (?, 1, ?)", [(i, f"2024-01-{i:02d} 09:00:00") for i in range(1, 9)])
    conn.commit()
    conn.close()
    folder = tmp_path / "out" / "eav"
    with pytest.raises(ConfigError) as raised:
        write_scaffold("eav", tmp_path / "out", SourceAddress(database=path))
    assert str(raised.value) == (
        "No table of this database looks like a patient, visit or other record table with the columns the record "
        "needs, so no connector could be guessed: patient table person has no column for name; encounter table "
        "encounter has no column for patient_id. Write connector.toml by hand (docs/connectors.md), starting from "
        f"{folder / 'connector.draft.toml'} (every section commented out, with what it lacks) and "
        f"{folder / 'PROFILE.md'}.")
    assert sorted(p.name for p in folder.iterdir()) == ["PROFILE.md", "connector.draft.toml"]
    draft = (folder / "connector.draft.toml").read_text(encoding="utf-8")
    assert "# Commented out: no column found for required field 'name'.\n# [entities.patient]\n" in draft
    assert '# birth_date = { column = "birthdate", type = "date" }' in draft
    assert "\n[entities." not in draft  # nothing a loader would take for a finished section
    assert "| person | 8 |" in (folder / "PROFILE.md").read_text(encoding="utf-8")


def test_a_table_that_lacks_what_the_record_needs_yields_to_the_next_likely_one(tmp_path: Path) -> None:
    # DRUG_ORDER's names fit a prescription best (dose, route, frequency) but it has no patient nor date; ORDERS
    # has them. Before: DRUG_ORDER was guessed, and order_line written commented out ("no column for
    # patient_id, ordered"); ORDERS was never tried.
    path = tmp_path / "orders.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE PATIENT (PT_NO INTEGER PRIMARY KEY, CHART_NO TEXT, PT_NM TEXT);
        CREATE TABLE DRUG_ORDER (ORDER_ID INTEGER PRIMARY KEY, DRUG_NM TEXT, DOSE REAL, DOSE_UNIT TEXT, ROUTE TEXT,
                                 FREQUENCY INTEGER, DAYS INTEGER);
        CREATE TABLE ORDERS (ORDER_ID INTEGER PRIMARY KEY, PT_NO INTEGER, ORD_YMD TEXT, ORD_CD TEXT);
    """)
    conn.executemany("INSERT INTO PATIENT VALUES (?, ?, ?)", [(i, f"C{i:04d}", f"환자{i}") for i in range(1, 9)])
    conn.executemany("INSERT INTO DRUG_ORDER VALUES (?, '타이레놀정', 1.0, 'T', 'PO', 3, 5)", [(i,) for i in range(1, 9)])
    conn.executemany("INSERT INTO ORDERS VALUES (?, ?, '20240102', 'M0001')", [(i, i) for i in range(1, 9)])
    conn.commit()
    conn.close()
    outcome = write_scaffold("orders", tmp_path / "out", SourceAddress(database=path))
    guess = outcome.guesses["order_line"]
    assert (guess.table, guess.usable) == ("ORDERS", True)
    assert [f.field for f in guess.fields] == ["patient_id", "ordered", "local_code"]
    assert guess.why.endswith("; DRUG_ORDER fits as well but has no column for patient_id, ordered")
    spec = load_spec(outcome.folder)
    assert spec.entities["order_line"].table == "ORDERS"


def test_a_tryton_shaped_schema_keyed_id_everywhere_refers_by_the_named_column_and_joins_the_party(
        tmp_path: Path) -> None:
    # GNU Health's shape (tests/test_opensource_shaped_clinics.py on PostgreSQL): every table keyed ``id``, a
    # Many2One named after what it points at (``patient``), the patient's ``name`` the id of its party, which holds
    # the name, birth date and sex. Before: the patient's name was its party's number (name = { column = "name" }),
    # and every other table's own ``id`` was taken for its patient (the allergy of row 3 given to patient 3, the
    # vaccination of row 5 to patient 5), as the overlap of two runs of small numbers always says "found".
    path = tmp_path / "tryton.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE party_party (id INTEGER PRIMARY KEY, name TEXT, lastname TEXT, dob TEXT, gender TEXT);
        CREATE TABLE hospital_patient (id INTEGER PRIMARY KEY, name INTEGER NOT NULL, active INTEGER);
        CREATE TABLE hospital_allergy (id INTEGER PRIMARY KEY, patient INTEGER, allergen TEXT);
        CREATE TABLE hospital_vaccination (id INTEGER PRIMARY KEY, vaccine_name TEXT, vaccine_date TEXT);
        CREATE TABLE hospital_lab (id INTEGER PRIMARY KEY, patient INTEGER, test INTEGER);
        CREATE TABLE hospital_lab_line (id INTEGER PRIMARY KEY, hospital_lab_id INTEGER, code TEXT, name TEXT,
                                        result REAL, result_date TEXT);
    """)
    conn.executemany("INSERT INTO party_party VALUES (?, ?, '김', ?, ?)",
                     [(100 + i, f"민준{i}", f"19{50 + i}-01-0{1 + i % 9}", "mf"[i % 2]) for i in range(1, 31)])
    conn.executemany("INSERT INTO hospital_patient VALUES (?, ?, 1)", [(i, 100 + i) for i in range(1, 31)])
    conn.executemany("INSERT INTO hospital_allergy VALUES (?, ?, '페니실린')", [(i, 31 - i) for i in range(1, 11)])
    conn.executemany("INSERT INTO hospital_vaccination VALUES (?, '인플루엔자', '2024-10-01')",
                     [(i,) for i in range(1, 11)])
    # a lab's result lines hold only the lab's id; the lab holds the patient (GNU Health's gnuhealth_lab_id)
    conn.executemany("INSERT INTO hospital_lab VALUES (?, ?, 1)", [(i, 30 - i) for i in range(1, 9)])
    conn.executemany("INSERT INTO hospital_lab_line VALUES (?, ?, 'Hb', '혈색소', 13.5, '2024-03-02')",
                     [(i, 1 + i % 8) for i in range(1, 17)])
    conn.commit()
    conn.close()
    outcome = write_scaffold("tryton", tmp_path / "out", SourceAddress(database=path))
    spec = load_spec(outcome.folder)
    patient = spec.entities["patient"]
    assert (patient.table, patient.query) == (
        "hospital_patient", "SELECT X.*, P.lastname AS SCAFFOLD_LASTNAME, P.name AS SCAFFOLD_NAME, P.gender AS "
                            "SCAFFOLD_GENDER, P.dob AS SCAFFOLD_DOB FROM hospital_patient X LEFT JOIN party_party P "
                            "ON P.id = X.name")
    fields = patient.fields
    assert (fields["name"].columns, fields["sex"].column, fields["sex"].map, fields["birth_date"].column) == (
        ("SCAFFOLD_LASTNAME", "SCAFFOLD_NAME"), "SCAFFOLD_GENDER", {"m": "male", "f": "female", "o": "other",
                                                                    "nb": "other", "other": "other", "u": "unknown"},
        "SCAFFOLD_DOB")
    assert spec.entities["allergy"].fields["patient_id"].column == "patient"
    guess = outcome.guesses["immunization"]
    assert (guess.table, guess.usable, guess.missing) == ("hospital_vaccination", False, ["patient_id"])
    result = run_export(ExportRequest(connector="tryton", source=SourceAddress(database=path),
                                      connectors_dirs=(tmp_path / "out",), institution_code="12345678",
                                      institution_name="가상의원"))
    counts = {e["entity"]: (e["exported"], e["quarantined"]) for e in result.reconciliation.to_dict()["entities"]}
    lab = spec.entities["lab_result"]
    assert (lab.table, lab.query, lab.fields["patient_id"].column, lab.fields["code"].column) == (
        "hospital_lab_line", "SELECT X.*, H.patient AS SCAFFOLD_PATIENT FROM hospital_lab_line X LEFT JOIN "
                             "hospital_lab H ON H.id = X.hospital_lab_id", "SCAFFOLD_PATIENT", "code")
    assert counts == {"patient": (30, 0), "allergy": (10, 0), "lab_result": (16, 0)}
    assert result.reconciliation.balanced


def _export_counts(name: str, path: Path, out: Path) -> dict[str, tuple[int, int]]:
    result = run_export(ExportRequest(connector=name, source=SourceAddress(database=path), connectors_dirs=(out,),
                                      institution_code="12345678", institution_name="가상의원"))
    assert result.reconciliation.balanced
    return {e["entity"]: (e["exported"], e["quarantined"]) for e in result.reconciliation.to_dict()["entities"]}


def test_a_record_holding_a_dictionarys_id_gets_the_dictionarys_code_and_name_joined_in(tmp_path: Path) -> None:
    # Before: the diagnosis and vaccination tables hold only ids of a disease table (with its ICD code) and of a
    # vaccine table: no column for the diagnosis's code, none for the vaccine: both commented out, carried raw.
    path = tmp_path / "dictionary.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE patient (patient_id INTEGER PRIMARY KEY, pt_name TEXT, birth_date TEXT, sex TEXT);
        CREATE TABLE disease (id INTEGER PRIMARY KEY, code TEXT, name TEXT);
        CREATE TABLE vaccine (id INTEGER PRIMARY KEY, name TEXT);
        CREATE TABLE diagnosis (id INTEGER PRIMARY KEY, patient_id INTEGER, diag_date TEXT, disease INTEGER);
        CREATE TABLE vaccination (id INTEGER PRIMARY KEY, patient_id INTEGER, vaccination_date TEXT,
                                  vaccine INTEGER);
    """)
    conn.executemany("INSERT INTO patient VALUES (?, ?, '1980-01-02', 'M')", [(i, f"환자{i}") for i in range(1, 31)])
    conn.executemany("INSERT INTO disease VALUES (?, ?, ?)", [(101, "J00", "급성 비인두염"), (102, "I10", "본태성 고혈압")])
    conn.executemany("INSERT INTO vaccine VALUES (?, ?)", [(201, "인플루엔자 백신"), (202, "파상풍 백신")])
    # disease 103 is no row of disease: the diagnosis is kept (LEFT JOIN), quarantined for its missing code
    conn.executemany("INSERT INTO diagnosis VALUES (?, ?, '2024-03-02', ?)",
                     [(i, 1 + i % 30, 101 + i % 2 if i != 20 else 103) for i in range(1, 41)])
    conn.executemany("INSERT INTO vaccination VALUES (?, ?, '2024-10-01', ?)",
                     [(i, 1 + i % 30, 201 + i % 2) for i in range(1, 21)])
    conn.commit()
    outcome = write_scaffold("dictionary", tmp_path / "out", SourceAddress(database=path))
    spec = load_spec(outcome.folder)
    diagnosis, vaccination = spec.entities["diagnosis"], spec.entities["immunization"]
    assert (diagnosis.table, diagnosis.fields["code"].column, diagnosis.fields["text"].column) == (
        "diagnosis", "SCAFFOLD_CODE", "SCAFFOLD_TEXT")
    assert (vaccination.table, vaccination.fields["vaccine_name"].column) == ("vaccination", "SCAFFOLD_VACCINE_NAME")
    assert "disease" not in {f.column for f in diagnosis.fields.values()}  # the id: carried raw beside the section
    assert diagnosis.query is not None and vaccination.query is not None
    rows = conn.execute(f"SELECT id, disease, SCAFFOLD_CODE, SCAFFOLD_TEXT FROM ({diagnosis.query}) ORDER BY id "
                        "LIMIT 3").fetchall()
    assert rows == [(1, 102, "I10", "본태성 고혈압"), (2, 101, "J00", "급성 비인두염"), (3, 102, "I10", "본태성 고혈압")]
    assert {r[0] for r in conn.execute(f"SELECT SCAFFOLD_VACCINE_NAME FROM ({vaccination.query})")} == {
        "인플루엔자 백신", "파상풍 백신"}
    conn.close()
    counts = _export_counts("dictionary", path, tmp_path / "out")
    assert (counts["diagnosis"], counts["immunization"]) == ((39, 1), (20, 0))


def test_a_dictionary_that_only_names_another_table_gives_that_ones_code_and_name(tmp_path: Path) -> None:
    # GNUmed's shape: a vaccination holds a vaccine's id; the vaccine row holds no code and no name, only its
    # product's id, the product its name and ATC code. Before: no vaccine code or name: the vaccinations carried raw.
    path = tmp_path / "stepped.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE patient (patient_id INTEGER PRIMARY KEY, pt_name TEXT, birth_date TEXT, sex TEXT);
        CREATE TABLE drug_product (id INTEGER PRIMARY KEY, description TEXT, atc_code TEXT);
        CREATE TABLE vaccine (id INTEGER PRIMARY KEY, fk_drug_product INTEGER, is_live INTEGER);
        CREATE TABLE vaccination (id INTEGER PRIMARY KEY, patient_id INTEGER, vaccination_date TEXT,
                                  fk_vaccine INTEGER, batch_no TEXT);
    """)
    conn.executemany("INSERT INTO patient VALUES (?, ?, '1980-01-02', 'M')", [(i, f"환자{i}") for i in range(1, 21)])
    conn.executemany("INSERT INTO drug_product VALUES (?, ?, ?)", [(1, "인플루엔자 백신", "J07BB02"),
                                                                  (2, "B형간염 백신", "J07BC01")])
    conn.executemany("INSERT INTO vaccine VALUES (?, ?, 0)", [(11, 1), (12, 2), (13, None)])  # 13: no product
    conn.executemany("INSERT INTO vaccination VALUES (?, ?, '2024-10-01', ?, ?)",
                     [(i, i, 11 + i % 3, f"LOT{i}") for i in range(1, 13)])
    conn.commit()
    outcome = write_scaffold("stepped", tmp_path / "out", SourceAddress(database=path))
    vaccination = load_spec(outcome.folder).entities["immunization"]
    assert {f: vaccination.fields[f].column for f in ("vaccine_code", "vaccine_name", "lot_number")} == {
        "vaccine_code": "SCAFFOLD_VACCINE_CODE", "vaccine_name": "SCAFFOLD_VACCINE_NAME", "lot_number": "batch_no"}
    assert vaccination.query is not None
    rows = conn.execute(f"SELECT id, SCAFFOLD_VACCINE_CODE, SCAFFOLD_VACCINE_NAME FROM ({vaccination.query}) "
                        "ORDER BY id LIMIT 3").fetchall()
    assert rows == [(1, "J07BC01", "B형간염 백신"), (2, None, None), (3, "J07BB02", "인플루엔자 백신")]
    conn.close()
    # the vaccinations of the vaccine with no product: no code, no name, quarantined as unmappable
    assert _export_counts("stepped", path, tmp_path / "out")["immunization"] == (8, 4)


def test_a_dictionary_names_no_other_tables_maker_or_staff_as_its_code_and_name(tmp_path: Path) -> None:
    # The step to the table one of a dictionary's ids names takes a product, not its maker nor the staff member who
    # entered it: was the first id column's table, the vaccine's name its manufacturer's ("GSK"), or none where two
    # ids lead to a name (which one is the vaccine's is not clear: carried, not guessed).
    for name, extra, expected in (
            ("maker", "fk_manufacturer INTEGER, fk_drug_product INTEGER", ("J07BC01", "B형간염 백신")),
            ("staff", "fk_staff INTEGER, fk_drug_product INTEGER", ("J07BC01", "B형간염 백신")),
            ("only_maker", "fk_manufacturer INTEGER, is_live INTEGER", None),
            ("two", "fk_drug INTEGER, fk_substance INTEGER", None)):
        path = tmp_path / f"{name}.sqlite"
        conn = sqlite3.connect(path)
        conn.executescript(f"""
            CREATE TABLE patient (patient_id INTEGER PRIMARY KEY, pt_name TEXT, birth_date TEXT, sex TEXT);
            CREATE TABLE drug_product (id INTEGER PRIMARY KEY, description TEXT, atc_code TEXT);
            CREATE TABLE substance (id INTEGER PRIMARY KEY, description TEXT, atc_code TEXT);
            CREATE TABLE manufacturer (id INTEGER PRIMARY KEY, name TEXT);
            CREATE TABLE staff (id INTEGER PRIMARY KEY, name TEXT);
            CREATE TABLE vaccine (id INTEGER PRIMARY KEY, {extra});
            CREATE TABLE vaccination (id INTEGER PRIMARY KEY, patient_id INTEGER, vaccination_date TEXT,
                                      fk_vaccine INTEGER, batch_no TEXT);
        """)
        conn.executemany("INSERT INTO patient VALUES (?, ?, '1980-01-02', 'M')", [(i, f"환자{i}") for i in range(1, 21)])
        for table in ("drug_product", "substance"):
            conn.executemany(f"INSERT INTO {table} VALUES (?, ?, ?)", [(1, "B형간염 백신", "J07BC01"),
                                                                       (2, "B형간염 백신", "J07BC01")])
        conn.executemany("INSERT INTO manufacturer VALUES (?, ?)", [(1, "GSK"), (2, "GSK")])
        conn.executemany("INSERT INTO staff VALUES (?, ?)", [(1, "김의사"), (2, "김의사")])
        conn.executemany("INSERT INTO vaccine VALUES (?, ?, ?)", [(11, 1, 1), (12, 2, 2)])
        conn.executemany("INSERT INTO vaccination VALUES (?, ?, '2024-10-01', ?, ?)",
                         [(i, i, 11 + i % 2, f"LOT{i}") for i in range(1, 13)])
        conn.commit()
        vaccination = load_spec(write_scaffold(name, tmp_path / name, SourceAddress(database=path)).folder
                                ).entities.get("immunization")
        found = None
        if vaccination is not None and vaccination.query is not None and "vaccine_code" in vaccination.fields:
            found = conn.execute(f"SELECT DISTINCT SCAFFOLD_VACCINE_CODE, SCAFFOLD_VACCINE_NAME FROM "
                                 f"({vaccination.query})").fetchall()
        conn.close()
        assert (name, found) == (name, [expected] if expected else None)


def test_a_dictionary_whose_names_and_codes_are_tables_of_their_own_is_read_in_two_steps(tmp_path: Path) -> None:
    # OpenMRS's shape: an allergy holds a concept's id; the concept's names are rows of concept_name (the preferred
    # first), its codes terms reached through concept_reference_map. Before: no allergen: the allergy carried raw.
    path = tmp_path / "concepts.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE patient (patient_id INTEGER PRIMARY KEY, pt_name TEXT, birth_date TEXT, sex TEXT);
        CREATE TABLE concept (concept_id INTEGER PRIMARY KEY, retired INTEGER);
        CREATE TABLE concept_name (concept_name_id INTEGER PRIMARY KEY, concept_id INTEGER, name TEXT,
                                   locale_preferred INTEGER);
        CREATE TABLE concept_reference_term (concept_reference_term_id INTEGER PRIMARY KEY, code TEXT);
        CREATE TABLE concept_reference_map (concept_map_id INTEGER PRIMARY KEY, concept_id INTEGER,
                                            concept_reference_term_id INTEGER);
        CREATE TABLE allergy (allergy_id INTEGER PRIMARY KEY, patient_id INTEGER, coded_allergen INTEGER,
                              severity_concept_id INTEGER);
    """)
    conn.executemany("INSERT INTO patient VALUES (?, ?, '1980-01-02', 'F')", [(i, f"환자{i}") for i in range(1, 21)])
    conn.executemany("INSERT INTO concept VALUES (?, 0)", [(c,) for c in (4001, 5001, 4003)])
    conn.executemany("INSERT INTO concept_name VALUES (?, ?, ?, ?)", [
        (1, 4001, "Penicillin G", 0), (2, 4001, "페니실린", 1), (3, 5001, "아세트아미노펜", 1), (4, 4003, "중등도", 1)])
    conn.executemany("INSERT INTO concept_reference_term VALUES (?, ?)", [(1, "RXN-7980"), (2, "RXN-161")])
    conn.executemany("INSERT INTO concept_reference_map VALUES (?, ?, ?)", [(1, 4001, 1), (2, 5001, 2)])
    conn.executemany("INSERT INTO allergy VALUES (?, ?, ?, 4003)", [(i, i, 4001 if i % 2 else 5001) for i in range(1, 11)])
    conn.commit()
    outcome = write_scaffold("concepts", tmp_path / "out", SourceAddress(database=path))
    allergy = load_spec(outcome.folder).entities["allergy"]
    assert (allergy.fields["substance"].column, allergy.fields["substance_code"].column) == (
        "SCAFFOLD_SUBSTANCE", "SCAFFOLD_SUBSTANCE_CODE")
    assert allergy.query is not None and "coded_allergen" in allergy.query  # not the severity's concept
    rows = conn.execute(f"SELECT allergy_id, SCAFFOLD_SUBSTANCE, SCAFFOLD_SUBSTANCE_CODE FROM ({allergy.query}) "
                        "ORDER BY allergy_id LIMIT 2").fetchall()
    assert rows == [(1, "페니실린", "RXN-7980"), (2, "아세트아미노펜", "RXN-161")]  # the preferred name, though second
    conn.close()
    assert _export_counts("concepts", path, tmp_path / "out")["allergy"] == (10, 0)


def test_a_record_given_as_free_text_beside_its_dictionarys_id_reads_the_text_where_no_dictionary_row_names_it(
        tmp_path: Path) -> None:
    # OpenMRS's non_coded_allergen beside coded_allergen, drug_non_coded, a Korean EMR's …_기타: the text written where
    # nothing in the dictionary fitted. Before: such a row had no name (NULL from the dictionary): an allergy
    # quarantined for want of its substance, a prescription as unmappable; and 백신명_기타 was the vaccine's name
    # itself, no dictionary joined: every vaccination given by its vaccine's id unmappable.
    path = tmp_path / "freetext.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE patient (patient_id INTEGER PRIMARY KEY, pt_name TEXT, birth_date TEXT, sex TEXT);
        CREATE TABLE allergen (id INTEGER PRIMARY KEY, code TEXT, name TEXT);
        CREATE TABLE drug (id INTEGER PRIMARY KEY, code TEXT, name TEXT);
        CREATE TABLE disease (id INTEGER PRIMARY KEY, code TEXT, name TEXT);
        CREATE TABLE vaccine (id INTEGER PRIMARY KEY, name TEXT);
        CREATE TABLE allergy (id INTEGER PRIMARY KEY, patient_id INTEGER, coded_allergen INTEGER,
                              non_coded_allergen TEXT, reaction_non_coded TEXT);
        CREATE TABLE prescription (id INTEGER PRIMARY KEY, patient_id INTEGER, rx_date TEXT, drug_id INTEGER,
                                   order_reason_non_coded TEXT, drug_non_coded TEXT);
        CREATE TABLE diagnosis (id INTEGER PRIMARY KEY, patient_id INTEGER, diag_date TEXT, disease INTEGER,
                                disease_free_text TEXT);
        CREATE TABLE vaccination (id INTEGER PRIMARY KEY, patient_id INTEGER, vaccination_date TEXT,
                                  vaccine INTEGER, 백신명_기타 TEXT);
    """)
    conn.executemany("INSERT INTO patient VALUES (?, ?, '1980-01-02', 'M')", [(i, f"환자{i}") for i in range(1, 31)])
    conn.executemany("INSERT INTO allergen VALUES (?, ?, ?)", [(1, "A-PCN", "페니실린"), (2, "A-ASA", "아스피린")])
    conn.executemany("INSERT INTO drug VALUES (?, ?, ?)", [(1, "D-001", "타이레놀정"), (2, "D-002", "노바스크정")])
    conn.executemany("INSERT INTO disease VALUES (?, ?, ?)", [(1, "J00", "급성 비인두염"), (2, "I10", "본태성 고혈압")])
    conn.executemany("INSERT INTO vaccine VALUES (?, ?)", [(1, "인플루엔자 백신"), (2, "파상풍 백신")])
    # every fifth given only as text (no id); allergy 10 with both (the dictionary's name wins, the text carried
    # raw); allergy 20 with neither (no substance: quarantined)
    conn.executemany("INSERT INTO allergy VALUES (?, ?, ?, ?, ?)", [
        (i, i, None if i % 5 == 0 and i != 10 else 1 + i % 2,
         "갑각류" if i % 5 == 0 and i != 20 else None, "두드러기" if i % 3 == 0 else None) for i in range(1, 21)])
    conn.executemany("INSERT INTO prescription VALUES (?, ?, '2024-03-02', ?, ?, ?)", [
        (i, 1 + i % 30, None if i % 5 == 0 else 1 + i % 2, "통증" if i % 4 == 0 else None,
         "한약 (외부 처방)" if i % 5 == 0 else None) for i in range(1, 31)])
    conn.executemany("INSERT INTO diagnosis VALUES (?, ?, '2024-03-02', ?, ?)", [
        (i, 1 + i % 30, None if i % 5 == 0 else 1 + i % 2, "원인 미상의 어지럼증" if i % 5 == 0 else None)
        for i in range(1, 31)])
    conn.executemany("INSERT INTO vaccination VALUES (?, ?, '2024-10-01', ?, ?)", [
        (i, 1 + i % 30, None if i % 5 == 0 else 1 + i % 2, "대상포진 백신 (타기관)" if i % 5 == 0 else None)
        for i in range(1, 21)])
    conn.commit()
    outcome = write_scaffold("freetext", tmp_path / "out", SourceAddress(database=path))
    spec = load_spec(outcome.folder)
    allergy, order, diagnosis, vaccination = (spec.entities[e] for e in ("allergy", "order_line", "diagnosis",
                                                                         "immunization"))
    assert (allergy.fields["substance"].column, allergy.fields["substance_code"].column, order.fields["name"].column,
            diagnosis.fields["text"].column, vaccination.fields["vaccine_name"].column) == (
        "SCAFFOLD_SUBSTANCE", "SCAFFOLD_SUBSTANCE_CODE", "SCAFFOLD_NAME", "SCAFFOLD_TEXT", "SCAFFOLD_VACCINE_NAME")
    assert allergy.query is not None and order.query is not None
    assert diagnosis.query is not None and vaccination.query is not None
    # the text of the record's own subject, never another's (reaction_non_coded, order_reason_non_coded)
    assert (", X.non_coded_allergen) AS SCAFFOLD_SUBSTANCE" in allergy.query, "reaction_non_coded" in allergy.query,
            ", X.drug_non_coded) AS SCAFFOLD_NAME" in order.query, "order_reason" in order.query,
            ", X.disease_free_text) AS SCAFFOLD_TEXT" in diagnosis.query,
            ", X.백신명_기타) AS SCAFFOLD_VACCINE_NAME" in vaccination.query) == (True, False, True, False, True, True)
    rows = conn.execute(f"SELECT id, SCAFFOLD_SUBSTANCE_CODE, SCAFFOLD_SUBSTANCE FROM ({allergy.query}) WHERE id IN "
                        "(1, 5, 10, 20) ORDER BY id").fetchall()
    # a code is only ever the dictionary's: none is made from the text
    assert rows == [(1, "A-ASA", "아스피린"), (5, None, "갑각류"), (10, "A-PCN", "페니실린"), (20, None, None)]
    assert conn.execute(f"SELECT SCAFFOLD_LOCAL_CODE, SCAFFOLD_NAME FROM ({order.query}) WHERE id = 5").fetchone() \
        == (None, "한약 (외부 처방)")
    conn.close()
    counts = _export_counts("freetext", path, tmp_path / "out")
    # was: allergy (17, 3), order line (24, 6), immunization (4, 16) (백신명_기타 was taken for the vaccine's name, so
    # the 16 given by id had none); diagnosis (24, 6): the 6 given only as text were quarantined for want of a code,
    # now Conditions of their text alone (no code made from it)
    assert (counts["allergy"], counts["order_line"], counts["immunization"], counts["diagnosis"]) == (
        (19, 1), (30, 0), (20, 0), (30, 0))


def test_a_patient_table_that_is_a_subset_of_the_persons_is_the_patient_section_and_the_staff_stay_out(
        tmp_path: Path) -> None:
    # OpenMRS's shape: person (the staff too) with its names in person_name, patient keyed by the person's id and
    # holding no demographics. Before: the section read person, and the admin and the doctor were exported as
    # Patients. Now patient → person → person_name: two steps joined in, the staff rows of person carried raw.
    path = tmp_path / "persons.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE person (person_id INTEGER PRIMARY KEY, gender TEXT, birthdate TEXT, voided INTEGER);
        CREATE TABLE person_name (person_name_id INTEGER PRIMARY KEY, person_id INTEGER, preferred INTEGER,
                                  given_name TEXT, family_name TEXT);
        CREATE TABLE patient (patient_id INTEGER PRIMARY KEY, allergy_status TEXT, voided INTEGER);
        CREATE TABLE encounter (encounter_id INTEGER PRIMARY KEY, patient_id INTEGER, encounter_datetime TEXT);
    """)
    conn.executemany("INSERT INTO person VALUES (?, ?, '1970-05-06', 0)", [(i, "MF"[i % 2]) for i in range(1, 33)])
    conn.executemany("INSERT INTO person_name VALUES (?, ?, 1, ?, '김')", [(i, i, f"직원{i}" if i <= 2 else f"환자{i}")
                                                                         for i in range(1, 33)])
    conn.executemany("INSERT INTO patient VALUES (?, 'Unknown', 0)", [(i,) for i in range(3, 33)])
    conn.executemany("INSERT INTO encounter VALUES (?, ?, '2024-03-04 09:00:00')", [(i, 3 + i % 30) for i in range(1, 41)])
    conn.commit()
    outcome = write_scaffold("persons", tmp_path / "out", SourceAddress(database=path))
    patient = load_spec(outcome.folder).entities["patient"]
    assert (patient.table, patient.key, patient.fields["chart_number"].column) == ("patient", "patient_id", "patient_id")
    assert patient.query is not None
    rows = conn.execute(f"SELECT patient_id, SCAFFOLD_FAMILY_NAME, SCAFFOLD_GIVEN_NAME, SCAFFOLD_P_GENDER FROM "
                        f"({patient.query}) ORDER BY patient_id LIMIT 2").fetchall()
    assert rows == [(3, "김", "환자3", "F"), (4, "김", "환자4", "M")]
    conn.close()
    counts = _export_counts("persons", path, tmp_path / "out")
    assert (counts["patient"], counts["encounter"]) == ((30, 0), (40, 0))  # persons 1 and 2 (staff): no Patient


def test_trytons_link_named_name_is_the_patient_or_the_order_whose_patient_is_joined_in(tmp_path: Path) -> None:
    # GNU Health's shape: a vaccination's ``name`` is its patient's id, a prescription line's ``name`` its order's
    # (whose ``patient`` is the patient's); every table keyed ``id``, so the line's order ids (1-40) are patients'
    # ids too. Before: neither had a patient: both commented out, carried raw.
    path = tmp_path / "tryton_name.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE hospital_patient (id INTEGER PRIMARY KEY, chart_no TEXT, pt_name TEXT, sex TEXT);
        CREATE TABLE hospital_vaccination (id INTEGER PRIMARY KEY, name INTEGER, vaccine_name TEXT,
                                           vaccination_date TEXT);
        CREATE TABLE hospital_prescription_order (id INTEGER PRIMARY KEY, patient INTEGER, prescription_date TEXT);
        CREATE TABLE hospital_prescription_line (id INTEGER PRIMARY KEY, name INTEGER, drug_nm TEXT,
                                                 start_date TEXT);
    """)
    conn.executemany("INSERT INTO hospital_patient VALUES (?, ?, ?, 'M')", [(i, f"C{i:04d}", f"환자{i}")
                                                                           for i in range(1, 51)])
    conn.executemany("INSERT INTO hospital_vaccination VALUES (?, ?, '인플루엔자', '2024-10-01')",
                     [(i, 51 - i) for i in range(1, 21)])
    conn.executemany("INSERT INTO hospital_prescription_order VALUES (?, ?, '2024-03-02')",
                     [(i, 50 - i) for i in range(1, 41)])
    conn.executemany("INSERT INTO hospital_prescription_line VALUES (?, ?, '타이레놀정', '2024-03-02')",
                     [(i, 1 + i % 40) for i in range(1, 61)])
    conn.commit()
    outcome = write_scaffold("tryton_name", tmp_path / "out", SourceAddress(database=path))
    spec = load_spec(outcome.folder)
    vaccination, line = spec.entities["immunization"], spec.entities["order_line"]
    assert (vaccination.fields["patient_id"].column, vaccination.fields["patient_id"].ref) == ("name", "patient")
    assert (line.table, line.fields["patient_id"].column) == ("hospital_prescription_line", "SCAFFOLD_PATIENT")
    assert line.query is not None and "LEFT JOIN hospital_prescription_order H ON H.id = X.name" in line.query
    assert conn.execute(f"SELECT id, SCAFFOLD_PATIENT FROM ({line.query}) ORDER BY id LIMIT 2").fetchall() == [
        (1, 48), (2, 47)]  # line 1: order 2, patient 48 (not patient 2, its order's number)
    conn.close()
    counts = _export_counts("tryton_name", path, tmp_path / "out")
    assert (counts["immunization"], counts["order_line"]) == ((20, 0), (60, 0))


def test_tables_of_passwords_and_of_kinds_are_skipped_unless_they_hold_patients(tmp_path: Path) -> None:
    # Before: both "not recognised", so the staff's password hashes were carried into the archive unless the
    # contractor thought of skipping them. A patients' web accounts table (a patient column) is never skipped.
    path = tmp_path / "pw.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE PATIENT (PT_NO INTEGER PRIMARY KEY, CHART_NO TEXT, PT_NM TEXT);
        CREATE TABLE STAFF (STAFF_ID TEXT PRIMARY KEY, USER_PW TEXT, SALT TEXT);
        CREATE TABLE PT_WEB (WEB_ID INTEGER PRIMARY KEY, PT_NO INTEGER, PWD TEXT, EMAIL TEXT);
        CREATE TABLE VISIT_TYPE (TYPE_ID INTEGER PRIMARY KEY, TYPE_NM TEXT);
        CREATE TABLE BLOOD_TYPE (BT_ID INTEGER PRIMARY KEY, PT_NO INTEGER, ABO TEXT);
        INSERT INTO VISIT_TYPE VALUES (1, '외래');
        INSERT INTO BLOOD_TYPE VALUES (1, 1, 'A+');
        INSERT INTO PATIENT VALUES (1, 'C0001', '환자1');
        INSERT INTO STAFF VALUES ('admin', 'x', 'y');
        INSERT INTO PT_WEB VALUES (1, 1, 'x', 'a@b');
    """)
    conn.commit()
    conn.close()
    outcome = write_scaffold("pw", tmp_path / "out", SourceAddress(database=path))
    text = outcome.connector_toml.read_text(encoding="utf-8")
    assert ('\nSTAFF = "the program\'s user accounts and their passwords (hashes); no patient data (a doctor\'s '
            'name kept here is mapped as a practitioner by a section)"\n') in text
    assert '\n# PT_WEB = "…"   # not recognised (1 rows, 4 columns)' in text
    # a table of kinds (OpenMRS encounter_type, visit_type) is a code table, carried as it is (what the codes of
    # the carried rows mean); one with a patient column is not
    parsed = tomllib.loads(text)
    assert parsed["carry"] == {"VISIT_TYPE": 'a code table of kinds: what the codes of other tables mean (look them '
                                             'up with lookup = { table = "VISIT_TYPE", … })'}
    assert set(parsed["skip"]) == {"STAFF"}
    assert '\n# BLOOD_TYPE = "…"   # not recognised (1 rows, 3 columns)' in text


def test_a_web_frameworks_own_tables_are_skipped_and_its_words_for_sex_mapped(tmp_path: Path) -> None:
    # Before: django_session and schema_migrations were "not recognised" (left for the contractor, carried into
    # the archive unless skipped), a sex column of 'male'/'female'/'other' (a PostgreSQL enum, Django choices) was
    # not mapped at all (every patient's gender "unknown"), and a diagnosis table's plain "name" column was left
    # unmapped. A therapy session table with a patient column is a clinical record: never skipped.
    path = tmp_path / "web.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE clinic_patient (id TEXT PRIMARY KEY, chart_number TEXT, name TEXT, sex TEXT);
        CREATE TABLE django_session (session_key TEXT PRIMARY KEY, session_data TEXT, expire_date TEXT);
        CREATE TABLE schema_migrations (version TEXT PRIMARY KEY);
        CREATE TABLE auth_group (id INTEGER PRIMARY KEY, name TEXT);
        CREATE TABLE therapy_session (id INTEGER PRIMARY KEY, patient_id TEXT, note TEXT);
        CREATE TABLE clinic_diagnosis (id INTEGER PRIMARY KEY, patient_id TEXT, code TEXT, name TEXT,
                                       created_at TEXT);
        INSERT INTO django_session VALUES ('k', 'x', '2026-01-01');
        INSERT INTO schema_migrations VALUES ('20240101');
        INSERT INTO auth_group VALUES (1, 'doctors');
        INSERT INTO therapy_session VALUES (1, 'p1', '상담');
    """)
    conn.executemany("INSERT INTO clinic_patient VALUES (?, ?, ?, ?)",
                     [(f"p{i}", f"C{i:04d}", f"환자{i}", ["male", "female", "other"][i % 3]) for i in range(1, 10)])
    conn.executemany("INSERT INTO clinic_diagnosis VALUES (?, ?, 'J00', '급성 비인두염', '2024-01-02 09:00:00')",
                     [(i, f"p{i}") for i in range(1, 10)])
    conn.commit()
    conn.close()
    outcome = write_scaffold("web", tmp_path / "out", SourceAddress(database=path))
    text = outcome.connector_toml.read_text(encoding="utf-8")
    assert '\ndjango_session = "the web program\'s login sessions; no patient records"\n' in text
    assert ('\nschema_migrations = "the program\'s database version history (schema migrations); no patient '
            'data"\n') in text
    assert '\nauth_group = "the web program\'s permissions and user groups; no patient data"\n' in text
    assert '\n# therapy_session = "…"   # not recognised (1 rows, 3 columns)' in text
    spec = load_spec(outcome.folder)
    sex = spec.entities["patient"].fields["sex"]
    assert (sex.column, sex.map) == ("sex", {"male": "male", "female": "female", "other": "other",
                                             "unknown": "unknown"})
    assert spec.entities["diagnosis"].fields["text"].column == "name"


def test_a_deceased_column_declared_a_time_is_the_time_of_death_and_a_declared_flag_stays_a_flag(
    tmp_path: Path
) -> None:
    # Before: a column named DECEASED of a timestamp type (GNUmed's dem.identity.deceased, the time of death) was
    # guessed as the yes/no flag with Access's -1/0 map, since an empty column "fits" any field: NULL for the
    # living, and a dead patient's time no yes/no value. A date or time type is never a flag, nor a flag type a
    # date; a column named only DECEASED, DEAD or 사망 that is a date is the time of death (deceasedDateTime).
    fields = {}
    for name, column, values in (("timed", "deceased TIMESTAMP", [None, None]),
                                 ("flag", "deceased BOOLEAN", [None, None]),
                                 ("written", "사망 TEXT", ["2024-01-02", None])):
        path = tmp_path / f"{name}.sqlite"
        conn = sqlite3.connect(path)
        conn.execute(f"CREATE TABLE PATIENT (PT_NO INTEGER PRIMARY KEY, CHART_NO TEXT, PT_NM TEXT, {column})")
        conn.executemany("INSERT INTO PATIENT VALUES (?, ?, ?, ?)",
                         [(i, f"C{i}", f"환자{i}", v) for i, v in enumerate(values, 1)])
        conn.commit()
        conn.close()
        spec = load_spec(write_scaffold(name, tmp_path / name, SourceAddress(database=path)).folder)
        fields[name] = {f: (g.column, g.type, g.map) for f, g in spec.entities["patient"].fields.items()
                        if f in ("deceased", "death_date")}
    assert fields == {"timed": {"death_date": ("deceased", "datetime", None)},
                      "flag": {"deceased": ("deceased", "bool", {"-1": True, "0": False})},
                      "written": {"death_date": ("사망", "date", None)}}


def test_entity_without_required_fields_is_commented_out(tmp_path: Path) -> None:
    path = tmp_path / "small.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE PATIENT (PAT_ID INTEGER PRIMARY KEY, CHART_NO TEXT, PAT_NAME TEXT)")
    conn.execute("CREATE TABLE VISIT (VISIT_ID INTEGER PRIMARY KEY, PAT_ID INTEGER, MEMO TEXT)")  # no date
    conn.executemany("INSERT INTO PATIENT VALUES (?, ?, ?)", [(1, "A1", "x"), (2, "A2", "y")])
    conn.execute("INSERT INTO VISIT VALUES (1, 1, 'z')")
    conn.commit()
    conn.close()
    outcome = write_scaffold("small", tmp_path / "out", SourceAddress(database=path))
    spec = load_spec(outcome.folder)
    assert set(spec.entities) == {"patient"}
    assert spec.encoding == "utf-8"
    text = outcome.connector_toml.read_text(encoding="utf-8")
    assert "# Commented out: no column found for required field 'start'." in text
    assert "# [entities.encounter]" in text


def test_cli_scaffold_json(demo_clinic, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["scaffold", "--source", str(demo_clinic.path), "--name", "cli-guess",
                                       "--out", str(tmp_path), "--sample-rows", "50", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["encoding"] == "cp949"
    assert data["entities"]["patient"] == {
        "table": "PT_MASTER", "key": "PT_NO", "usable": True,
        "fields": ["chart_number", "name", "sex", "birth_date", "rrn", "address", "phone", "first_visit", "active"],
    }
    # the demo's DEL_YN ('Y' on a deleted patient): the Patient says active = false
    assert load_spec(tmp_path / "cli-guess").entities["patient"].fields["active"].map == {"Y": False, "N": True}
    assert load_spec(tmp_path / "cli-guess").entities["encounter"].table == "VISIT"
    again = CliRunner().invoke(main, ["scaffold", "--source", str(demo_clinic.path), "--name", "cli-guess",
                                      "--out", str(tmp_path)])
    assert again.exit_code == 2 and "already exists" in again.output


def test_scaffold_over_the_sqlite_odbc_driver(demo_clinic, scaffolded: ScaffoldOutcome, tmp_path: Path) -> None:
    import pyodbc

    if "SQLite3" not in pyodbc.drivers():
        pytest.fail("the SQLite3 ODBC driver is not installed (.ci/install-system.sh installs it)")
    conn_str = f"DRIVER={{SQLite3}};Database={Path(demo_clinic.path)}"
    outcome = write_scaffold("via-odbc", tmp_path, SourceAddress(odbc=conn_str), sample_rows=500)
    spec = load_spec(outcome.folder)
    assert spec.encoding == "cp949"
    patient = spec.entities["patient"]
    assert (patient.table, patient.key, patient.fields["rrn"].type) == ("PT_MASTER", "PT_NO", "rrn")
    # The catalogue over ODBC (SQLTables/SQLColumns/SQLPrimaryKeys) gives the same guesses as sqlite_master.
    by_file = load_spec(scaffolded.folder)
    assert {n: (e.table, e.key, dict(e.fields)) for n, e in spec.entities.items()} == {
        n: (e.table, e.key, dict(e.fields)) for n, e in by_file.entities.items()}
    outcome_export = run_export(ExportRequest(
        connector="via-odbc", source=SourceAddress(odbc=conn_str), connectors_dirs=(tmp_path,),
        attachments_root=demo_clinic.attachments_root,
    ))
    assert outcome_export.reconciliation.balanced


def _english_clinical_clinic(path: Path) -> None:
    """A small EMR unlike the demo: English names, integer keys, ISO dates, the clinical tables named as
    Western EMRs name them (ALLERGIES, IMMUNIZATIONS, VITALS, INSURANCE, MEDICATIONS, LAB_REPORTS)."""
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE PATIENTS (PATIENT_ID INTEGER PRIMARY KEY, CHART_NO TEXT, PATIENT_NAME TEXT, SEX TEXT,
            BIRTH_DATE TEXT);
        CREATE TABLE VISITS (VISIT_ID INTEGER PRIMARY KEY, PATIENT_ID INTEGER, VISIT_DATE TEXT);
        CREATE TABLE ALLERGIES (ALLERGY_ID INTEGER PRIMARY KEY, PATIENT_ID INTEGER, ALLERGEN TEXT,
            REACTION_DESC TEXT, ONSET_DATE TEXT);
        CREATE TABLE IMMUNIZATIONS (IMM_ID INTEGER PRIMARY KEY, PATIENT_ID INTEGER, ADMIN_DATE TEXT,
            VACCINE_CODE TEXT, VACCINE_NAME TEXT, LOT TEXT, MANUFACTURER TEXT, DOSE_SEQ INTEGER);
        CREATE TABLE VITALS (VITAL_ID INTEGER PRIMARY KEY, PATIENT_ID INTEGER, VISIT_ID INTEGER, TAKEN_TIME TEXT,
            HR REAL, TEMP REAL, WT REAL, HT REAL, SPO2 REAL);
        CREATE TABLE INSURANCE (COVERAGE_ID INTEGER PRIMARY KEY, PATIENT_ID INTEGER, PAYER_TYPE TEXT,
            INSURER_NAME TEXT, MEMBER_NO TEXT, START_DATE TEXT, END_DATE TEXT);
        CREATE TABLE MEDICATIONS (MED_ID INTEGER PRIMARY KEY, PATIENT_ID INTEGER, DRUG_NAME TEXT, SIG TEXT,
            START_DATE TEXT, STOP_DATE TEXT);
        CREATE TABLE LAB_REPORTS (REPORT_ID INTEGER PRIMARY KEY, PATIENT_ID INTEGER, VISIT_ID INTEGER,
            REPORT_DATE TEXT, PANEL_NAME TEXT, CONCLUSION TEXT);
    """)
    for n in range(1, 41):
        day = f"2024-{1 + n % 12:02d}-{1 + n % 28:02d}"
        conn.execute("INSERT INTO PATIENTS VALUES (?, ?, ?, ?, ?)", (n, f"C{n:05d}", f"Patient {n}", "MF"[n % 2],
                                                                     f"19{50 + n}-0{1 + n % 9}-1{n % 9}"))
        conn.execute("INSERT INTO VISITS VALUES (?, ?, ?)", (n, n, day))
        conn.execute("INSERT INTO ALLERGIES VALUES (?, ?, ?, ?, ?)", (n, n, "Penicillin", "rash", day))
        conn.execute("INSERT INTO IMMUNIZATIONS VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     (n, n, day, "FLU", "Influenza", f"L{n:04d}", "GC Biopharma", 1 + n % 3))
        conn.execute("INSERT INTO VITALS VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     (n, n, n, f"{day} 09:30:00", 60 + n, 36.5, 50 + n / 2, 150 + n, 98))
        conn.execute("INSERT INTO INSURANCE VALUES (?, ?, ?, ?, ?, ?, ?)",
                     (n, n, "NHIS", "National Health Insurance Service", f"M{n:08d}", day, None))
        conn.execute("INSERT INTO MEDICATIONS VALUES (?, ?, ?, ?, ?, ?)", (n, n, "Metformin 500mg", "1 tab bid", day, None))
        conn.execute("INSERT INTO LAB_REPORTS VALUES (?, ?, ?, ?, ?, ?)", (n, n, n, day, "CBC", "within normal limits"))
    conn.commit()
    conn.close()


def test_clinical_tables_of_an_emr_unlike_the_demo_are_guessed_and_export(tmp_path: Path) -> None:
    path = tmp_path / "english.sqlite"
    _english_clinical_clinic(path)
    outcome = write_scaffold("english", tmp_path / "out", SourceAddress(database=path))
    spec = load_spec(outcome.folder)
    columns = {name: (entity.table, {f: spec_field.column for f, spec_field in entity.fields.items()})
               for name, entity in spec.entities.items()}
    assert columns["allergy"] == ("ALLERGIES", {"patient_id": "PATIENT_ID", "substance": "ALLERGEN",
                                                "reaction": "REACTION_DESC", "onset": "ONSET_DATE"})
    assert columns["immunization"] == ("IMMUNIZATIONS", {
        "patient_id": "PATIENT_ID", "occurred": "ADMIN_DATE", "vaccine_code": "VACCINE_CODE",
        "vaccine_name": "VACCINE_NAME", "dose_number": "DOSE_SEQ", "lot_number": "LOT",
        "manufacturer": "MANUFACTURER"})
    assert columns["vital_signs"] == ("VITALS", {
        "patient_id": "PATIENT_ID", "encounter_id": "VISIT_ID", "observed": "TAKEN_TIME", "pulse": "HR",
        "temperature": "TEMP", "weight": "WT", "height": "HT", "spo2": "SPO2"})
    assert columns["coverage"] == ("INSURANCE", {
        "patient_id": "PATIENT_ID", "payer_type": "PAYER_TYPE", "payer_name": "INSURER_NAME",
        "insured_number": "MEMBER_NO", "valid_from": "START_DATE", "valid_to": "END_DATE"})
    assert columns["medication_statement"] == ("MEDICATIONS", {
        "patient_id": "PATIENT_ID", "name": "DRUG_NAME", "dosage": "SIG", "started": "START_DATE",
        "ended": "STOP_DATE"})
    assert columns["lab_report"] == ("LAB_REPORTS", {
        "patient_id": "PATIENT_ID", "encounter_id": "VISIT_ID", "effective": "REPORT_DATE", "name": "PANEL_NAME",
        "conclusion": "CONCLUSION"})
    exported = run_export(ExportRequest(connector="english", source=SourceAddress(database=path),
                                        connectors_dirs=(outcome.folder.parent,), institution_code="99350017",
                                        institution_name="Test Clinic"))
    assert exported.dry_run and exported.reconciliation.balanced
    by_entity = {e["entity"]: e for e in exported.reconciliation.to_dict()["entities"]}
    for entity in ("allergy", "immunization", "vital_signs", "coverage", "medication_statement", "lab_report"):
        assert (by_entity[entity]["exported"], by_entity[entity]["quarantined"]) == (40, 0), by_entity[entity]


def _legacy_clinic(path: Path) -> None:
    """Shapes legacy Korean EMRs keep (tests/connectors/foreign_sections.py has the whole clinic)."""
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE PT_MST (PT_NO INTEGER PRIMARY KEY, CHART_NO TEXT, PT_NM TEXT, "주민번호" TEXT, "비고" TEXT);
        CREATE TABLE JUBSU (JUBSU_NO INTEGER PRIMARY KEY, PT_NO INTEGER, JUBSU_YMD CHAR(8));
        CREATE TABLE CHEOBANG (ORD_SEQ INTEGER PRIMARY KEY, JUBSU_NO INTEGER, PT_NO INTEGER, ORD_YMD INTEGER,
                               EDI_CD TEXT, ORD_NM TEXT);
        CREATE TABLE VITAL_SIGN (VS_SEQ INTEGER PRIMARY KEY, PT_NO INTEGER, MSR_DTTM TEXT, SBP TEXT);
        CREATE TABLE SUNAP (SUNAP_NO INTEGER PRIMARY KEY, PT_NO INTEGER, SUNAP_YMD CHAR(8), TOT_AMT TEXT);
    """)
    for i in range(1, 11):
        conn.execute("INSERT INTO PT_MST VALUES (?, ?, ?, ?, ?)", (i, f"C{i:04d}", f"환자{i}", "800101-1234567", "메모"))
        # one visit date in another format: [source] takes it after the format most values have
        conn.execute("INSERT INTO JUBSU VALUES (?, ?, ?)", (100 + i, i, "2023.01.10" if i == 10 else f"202301{i:02d}"))
        conn.execute("INSERT INTO CHEOBANG VALUES (?, ?, ?, ?, '645100880', 'x')", (i, 100 + i, i, 20230100 + i))
        conn.execute("INSERT INTO VITAL_SIGN VALUES (?, ?, ?, '120')", (i, i, f"2023-01-{i:02d} 09:{i:02d}"))
        # amounts as text, with and without commas, and one in words
        amount = "만원" if i == 10 else f"{i},000" if i % 2 else f"{i}000"
        conn.execute("INSERT INTO SUNAP VALUES (?, ?, ?, ?)", (i, i, f"202301{i:02d}", amount))
    conn.commit()
    conn.close()


def test_legacy_korean_shapes_are_guessed_and_unnamable_columns_left_raw(tmp_path: Path) -> None:
    path = tmp_path / "legacy.sqlite"
    _legacy_clinic(path)
    # Before: the RRN was guessed on "주민번호" and the connector did not load ("'주민번호' is not a plain SQL
    # identifier": since allowed, as Hangul letters); ORD_YMD (20230101 as an INTEGER) and MSR_DTTM ('2023-01-02 09:30') were no dates, so the
    # order and vital-sign sections were commented out; TOT_AMT ('1,000' beside '2000') was left unmapped;
    # '2023.01.10' among YYYYMMDD visit dates was quarantined (invalid-date): [source] had "%Y%m%d" only.
    outcome = write_scaffold("legacy", tmp_path / "out", SourceAddress(database=path))
    spec = load_spec(outcome.folder)
    # Hangul names are plain names on every engine (spec.IDENTIFIER): the RRN is guessed on 주민번호 since then
    rrn = spec.entities["patient"].fields["rrn"]
    assert (rrn.column, rrn.type) == ("주민번호", "rrn")
    assert "# Not guessed" not in outcome.connector_toml.read_text(encoding="utf-8")
    ordered = spec.entities["order_line"].fields["ordered"]
    assert (ordered.column, ordered.type, ordered.required) == ("ORD_YMD", "date", True)
    observed = spec.entities["vital_signs"].fields["observed"]
    assert (observed.column, observed.type) == ("MSR_DTTM", "datetime")
    assert "%Y-%m-%d %H:%M" in spec.datetime_formats
    assert list(spec.date_formats) == ["%Y%m%d", "%Y.%m.%d"]
    total = spec.entities["receipt"].fields["total"]
    assert (total.column, total.type) == ("TOT_AMT", "decimal")
    # and the guesses export: the dates parse, the amount in words is a field defect, not a lost row
    result = run_export(ExportRequest(source=SourceAddress(database=path), connector="legacy",
                                      connectors_dirs=(tmp_path / "out",), institution_code="12345678",
                                      institution_name="x"))
    rec = result.reconciliation
    assert rec.balanced
    entities = {e.entity: e for e in rec.entities}
    assert {e: (entities[e].source_rows, entities[e].exported) for e in ("encounter", "order_line", "vital_signs",
                                                                           "receipt")} == {
        "encounter": (10, 10), "order_line": (10, 10), "vital_signs": (10, 10), "receipt": (10, 10)}
    assert entities["receipt"].field_defects == {"invalid-number": 1}


def test_cp949_read_as_latin1_is_told_from_real_text() -> None:
    from emr_exporter.authoring.scaffold import cp949_read_as_latin1

    # CP949 bytes decoded as MariaDB's latin1 (cp1252, its undefined bytes passed through: 0x81 → U+0081)
    for korean in ("김환자1", "홍길동", "서울시 중구 1길", "뷁"):
        mojibake = "".join(bytes([b]).decode("cp1252") if b not in (0x81, 0x8D, 0x8F, 0x90, 0x9D) else chr(b)
                           for b in korean.encode("cp949"))
        assert cp949_read_as_latin1(mojibake), korean
    for text in ("김환자", "café", "Müller", "abc", "±", "naïve résumé", "€100"):
        assert not cp949_read_as_latin1(text), text


def test_a_mapped_date_of_9999_12_31_exports(tmp_path: Path) -> None:
    # 99991231 is how Korean EMRs write "no end yet". Before, the export's cell check probed the FHIR builder
    # with the date one day later and crashed: OverflowError: date value out of range.
    path = tmp_path / "end_of_calendar.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE PT_MST (PT_NO INTEGER PRIMARY KEY, CHART_NO TEXT, PT_NM TEXT, BIRTH_YMD CHAR(8));
        CREATE TABLE INS_HIST (INS_SEQ INTEGER PRIMARY KEY, PT_NO INTEGER, INS_GB TEXT, INS_NO TEXT,
                               FROM_YMD CHAR(8), TO_YMD CHAR(8));
    """)
    for i in range(1, 11):
        conn.execute("INSERT INTO PT_MST VALUES (?, ?, ?, ?)", (i, f"C{i:04d}", f"환자{i}", f"198001{i:02d}"))
        end = "99991231" if i == 1 else f"202212{i:02d}"  # the first row (the one the cell check learns on)
        conn.execute("INSERT INTO INS_HIST VALUES (?, ?, '1', ?, ?, ?)", (i, i, f"M{i:08d}", f"202001{i:02d}", end))
    conn.commit()
    conn.close()
    outcome = write_scaffold("calendar", tmp_path / "out", SourceAddress(database=path))
    assert load_spec(outcome.folder).entities["coverage"].fields["valid_to"].column == "TO_YMD"
    result = run_export(ExportRequest(source=SourceAddress(database=path), connector="calendar",
                                      connectors_dirs=(tmp_path / "out",), institution_code="12345678",
                                      institution_name="x"))
    assert result.reconciliation.balanced
    [coverage] = [e for e in result.reconciliation.entities if e.entity == "coverage"]
    # the open end is no end (sentinel-date: valid_to dropped, 99991231 carried raw), never a coverage until 9999
    assert (coverage.source_rows, coverage.exported, coverage.field_defects) == (10, 10, {"sentinel-date": 1})


def test_an_open_ended_coverage_end_date_99991231_is_a_date(tmp_path: Path) -> None:
    # Korean EMRs write "no end yet" as 99991231. Before, the year 9999 was outside the date shape (1900-2100),
    # so an end date column of mostly 99991231 had no date shape and coverage.valid_to stayed unmapped.
    path = tmp_path / "open_ended.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE PT_MST (PT_NO INTEGER PRIMARY KEY, CHART_NO TEXT, PT_NM TEXT, BIRTH_YMD CHAR(8));
        CREATE TABLE INS_HIST (INS_SEQ INTEGER PRIMARY KEY, PT_NO INTEGER, INS_GB TEXT, INS_NO TEXT,
                               FROM_YMD CHAR(8), TO_YMD CHAR(8), END_YMD INTEGER);
    """)
    for i in range(1, 11):
        conn.execute("INSERT INTO PT_MST VALUES (?, ?, ?, ?)", (i, f"C{i:04d}", f"환자{i}", f"198001{i:02d}"))
        end = "20221231" if i > 8 else "99991231"  # most still insured
        conn.execute("INSERT INTO INS_HIST VALUES (?, ?, '1', ?, ?, ?, ?)",
                     (i, i, f"M{i:08d}", f"202001{i:02d}", end, int(end)))
    conn.commit()
    conn.close()
    outcome = write_scaffold("open", tmp_path / "out", SourceAddress(database=path))
    spec = load_spec(outcome.folder)
    valid_to = spec.entities["coverage"].fields["valid_to"]
    assert (valid_to.column, valid_to.type) == ("TO_YMD", "date")
    profile = outcome.profile_md.read_text(encoding="utf-8")
    [to_ymd] = [line for line in profile.splitlines() if line.startswith("| TO_YMD |")]
    [end_ymd] = [line for line in profile.splitlines() if line.startswith("| END_YMD |")]
    assert "yyyymmdd" in to_ymd and "yyyymmdd" in end_ymd, (to_ymd, end_ymd)
    result = run_export(ExportRequest(source=SourceAddress(database=path), connector="open",
                                      connectors_dirs=(tmp_path / "out",), institution_code="12345678",
                                      institution_name="x"))
    assert result.reconciliation.balanced
    [coverage] = [e for e in result.reconciliation.entities if e.entity == "coverage"]
    # each open end (8 of 10) is no end: the field dropped, the cell carried raw with its reason (sentinel-date)
    assert (coverage.source_rows, coverage.exported, coverage.field_defects) == (10, 10, {"sentinel-date": 8})


@pytest.mark.slow  # scaffold, export, check and scan of the demo clinic: some 2 minutes on 2 cores
def test_absolute_windows_paths_get_a_stored_prefixes_guess_and_the_export_finds_the_files(
        demo_clinic, tmp_path: Path) -> None:
    """The demo clinic as an EMR that stores each scan's full Windows path (C:\\UBCARE\\SCAN\\2023\\04\\….pdf),
    the folder copied to this machine: the scaffold guesses the prefix, the export reads every file under
    --attachments-root; without the prefix, check and scan say what to do."""
    database = tmp_path / "clinic.sqlite"
    shutil.copyfile(demo_clinic.path, database)
    with sqlite3.connect(database) as conn:
        conn.execute("UPDATE ATTACH_FILE SET FILE_PATH = 'C:\\UBCARE\\SCAN\\' || REPLACE(FILE_PATH, '/', '\\') "
                     "WHERE FILE_PATH NOT LIKE '/%' AND FILE_PATH NOT LIKE '..%'")
        windows = conn.execute("SELECT COUNT(*) FROM ATTACH_FILE WHERE FILE_PATH LIKE 'C:\\UBCARE\\SCAN\\%'").fetchone()[0]
    assert windows > 50
    outcome = write_scaffold(NAME, tmp_path / "connectors", SourceAddress(database=database), sample_rows=500)
    toml = outcome.connector_toml.read_text(encoding="utf-8")
    block = toml[toml.index("[attachments]"):toml.index("# --- ")]
    sampled = outcome.profile.tables[[t.name for t in outcome.profile.tables].index("ATTACH_FILE")].column("FILE_PATH")
    assert sampled is not None and sampled.non_empty == windows + 2  # and the planted ../../etc/passwd, /etc/hosts
    assert sampled.shapes == {"windows_path": windows, "posix_path": 1}
    assert block == (
        "[attachments]\n"
        "# GUESS (file paths are relative to this folder next to a database file; or give --attachments-root)\n"
        'root = "attachments"\n'
        f"# GUESS (attachment.content_path (FILE_PATH): {windows + 1} distinct absolute paths among {windows + 2} "
        "sampled values; the "
        "folder they share (without numbered folders such as years), as the EMR wrote it, is read as the "
        "attachments root: check it names the folder you copied)\n"
        "stored_prefixes = ['C:\\UBCARE\\SCAN']\n\n")
    assert load_spec(outcome.folder).attachments_prefixes == ("C:\\UBCARE\\SCAN",)
    # PROFILE.md says the paths are absolute, never which folder (it is shared with the EMR vendor).
    profile = outcome.profile_md.read_text(encoding="utf-8")
    assert "UBCARE" not in profile and "SCAN\\" not in profile
    assert f"| FILE_PATH | TEXT |  | 47.7 | {windows + 2} | 44 | windows_path |" in profile
    assert ("Attachment paths: ATTACH_FILE.FILE_PATH holds absolute file paths, Windows (a drive letter or a "
            "network share). The export reads them inside the attachments folder: connector.toml guesses "
            "`[attachments] stored_prefixes`") in profile
    # The export with the guessed connector finds every file under --attachments-root, as the demo's own does.
    request = ExportRequest(connector=NAME, source=SourceAddress(database=database),
                            connectors_dirs=(outcome.folder.parent,), attachments_root=demo_clinic.attachments_root)
    attachment = next(e for e in run_export(request).reconciliation.entities if e.entity == "attachment")
    assert (attachment.exported, dict(attachment.reasons)) == (147, {"path-outside-root": 2, "file-missing": 2})
    # Without the guess every Windows path is outside the folder: check and scan name the setting.
    outcome.connector_toml.write_text(toml.replace("stored_prefixes = ['C:\\UBCARE\\SCAN']\n", ""), encoding="utf-8")
    hint = ("attachment.content_path (FILE_PATH): {} row(s) hold an absolute path outside the attachments folder "
            "(C:\\…, \\\\server\\share\\… or /…). If the EMR wrote the full path of each file, give the folder it "
            "wrote before the files in connector.toml, [attachments] stored_prefixes = ['C:\\EMR\\SCAN'] (as the EMR "
            "wrote it; the rest of each path is then read inside the attachments folder, --attachments-root)")
    runner = CliRunner()
    checked = runner.invoke(main, ["connector", "check", str(outcome.folder), "--source", str(database),
                                   "--attachments-root", str(demo_clinic.attachments_root), "--json"])
    assert checked.exit_code == 4, checked.output
    report = json.loads(checked.output)
    # 75 files and the 2 planted missing ones written as C:\…, and the planted /etc/hosts
    assert report["hints"] == [hint.format(windows + 1)]
    assert {"section": "attachment", "field": "content_path", "column": "FILE_PATH", "reason_code": "path-outside-root",
            "rows": windows + 2} in report["defects"]
    scanned = runner.invoke(main, ["scan", "--connector", NAME, "--connectors-dir", str(outcome.folder.parent),
                                   "--source", str(database), "--attachments-root", str(demo_clinic.attachments_root)])
    assert scanned.exit_code == 0, scanned.output
    assert f"Hint: {hint.format(windows + 1)}\n" in scanned.output


def test_the_stored_prefix_guess_is_a_shared_folder_never_a_file_nor_a_numbered_folder() -> None:
    from emr_exporter.authoring.scaffold import _common_folders

    assert _common_folders({
        "C:\\UBCARE\\SCAN\\2015\\03\\000123_1.jpg", "c:\\ubcare\\scan\\2015\\03\\000124_1.jpg",  # one month sampled
        "\\\\NAS\\emr\\img\\a.jpg", "//nas/EMR/img/b.jpg",  # a share, either slash, either case
        "/srv/emr/one.jpg",  # a single path: no guess for its root
        "D:\\EMR\\only.jpg",
    }) == ["C:\\UBCARE\\SCAN", "\\\\nas\\EMR\\img"]  # spelled as the first path (in sorted order) spells it
    assert _common_folders({"C:\\a.jpg", "C:\\b.jpg"}) == ["C:\\"]
    assert _common_folders({"C:\\SCAN\\a.jpg"}) == []
    assert _common_folders({"/srv/emr/2023/a.jpg", "/srv/emr/2024/b.jpg", "/srv/EMR/2024/c.jpg"}) == ["/srv"]
    assert _common_folders({"C:\\SCAN\\..\\a.jpg", "C:\\SCAN\\..\\b.jpg"}) == []


def test_names_written_the_sql_server_and_access_way_are_read_as_their_words(tmp_path: Path) -> None:
    # Before: only the patient guessed, its name the family name alone and no birth date; tblVisit,
    # tblDiagnosis, tblUser (password hashes) and sysdiagrams "not recognised" (no hint knows tbl…, dtVisit,
    # DxCode, PasswordHash), and a visit table's first date-like column would have been the UTC one.
    path = tmp_path / "camel.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE tblPatientOld (PatientID INTEGER PRIMARY KEY, ChartNo TEXT, PtName TEXT, dtBirth TEXT);
        CREATE TABLE tblPatient (PatientID INTEGER PRIMARY KEY, ChartNo TEXT, FamilyName TEXT, GivenName TEXT,
                                 FullName TEXT, dtBirth TEXT, bIsActive INTEGER);
        CREATE TABLE tblVisit (VisitID INTEGER PRIMARY KEY, PatientID INTEGER, dtVisitUTC TEXT, dtVisit TEXT,
                               nvcChiefComplaint TEXT);
        CREATE TABLE tblDiagnosis (DxID INTEGER PRIMARY KEY, VisitID INTEGER, PatientID INTEGER, DxCode TEXT,
                                   DxName TEXT);
        CREATE TABLE tblUser (UserID INTEGER PRIMARY KEY, LoginName TEXT, PasswordHash TEXT);
        CREATE TABLE sysdiagrams (diagram_id INTEGER PRIMARY KEY, name TEXT, definition BLOB);
        CREATE TABLE MSysAccessStorage (Id INTEGER PRIMARY KEY, Lv BLOB);
        CREATE TABLE "__EFMigrationsHistory" (MigrationId TEXT PRIMARY KEY, ProductVersion TEXT);
    """)
    for i in range(1, 21):
        conn.execute("INSERT INTO tblPatientOld VALUES (?, ?, ?, ?)", (i, f"{i:06d}", "옛이름", "01/02/1970"))
        conn.execute("INSERT INTO tblPatient VALUES (?, ?, '김', '민준', '김민준', ?, -1)",
                     (i, f"N{i:05d}", f"{1 + i % 12:02d}/{1 + i % 28:02d}/19{50 + i}"))
        conn.execute("INSERT INTO tblVisit VALUES (?, ?, ?, ?, '두통')",
                     (i, i, f"2024-01-{i:02d} 00:30:00", f"2024-01-{i:02d} 09:30:00"))
        conn.execute("INSERT INTO tblDiagnosis VALUES (?, ?, ?, 'J00', '급성 비인두염')", (i, i, i))
    conn.executescript("""
        INSERT INTO tblUser VALUES (1, 'admin', '0x0200AB');
        INSERT INTO sysdiagrams VALUES (1, 'Diagram_0', x'00');
        INSERT INTO MSysAccessStorage VALUES (1, x'00');
        INSERT INTO "__EFMigrationsHistory" VALUES ('20200101_Initial', '3.1.0');
    """)
    conn.commit()
    conn.close()
    outcome = write_scaffold("camel", tmp_path / "out", SourceAddress(database=path))
    spec = load_spec(outcome.connector_toml.parent)
    assert {name: e.table for name, e in spec.entities.items()} == {
        "patient": "tblPatient", "encounter": "tblVisit", "diagnosis": "tblDiagnosis"}
    fields = {(name, f): (spec.entities[name].fields[f].column, spec.entities[name].fields[f].type)
              for name, f in (("patient", "name"), ("patient", "birth_date"), ("patient", "chart_number"),
                              ("encounter", "patient_id"), ("encounter", "start"), ("encounter", "reason"),
                              ("diagnosis", "code"), ("diagnosis", "text"))}
    assert fields == {
        ("patient", "name"): ("FullName", "text"), ("patient", "birth_date"): ("dtBirth", "date"),
        ("patient", "chart_number"): ("ChartNo", "text"), ("encounter", "patient_id"): ("PatientID", "ref"),
        ("encounter", "start"): ("dtVisit", "datetime"), ("encounter", "reason"): ("nvcChiefComplaint", "text"),
        ("diagnosis", "code"): ("DxCode", "text"), ("diagnosis", "text"): ("DxName", "text")}
    assert spec.date_formats[:1] == ("%m/%d/%Y",)
    assert spec.skip == {
        "tblUser": "the program's user accounts and their passwords (hashes); no patient data (a doctor's name "
                   "kept here is mapped as a practitioner by a section)",
        "sysdiagrams": "SQL Server's database diagrams (drawings of the tables); no patient data",
        "MSysAccessStorage": "an Access system table (the program's own bookkeeping); no patient data",
        "__EFMigrationsHistory": "the program's database version history (schema migrations); no patient data"}
    outcome = run_export(ExportRequest(connector="camel", source=SourceAddress(database=path),
                                       connectors_dirs=(tmp_path / "out",), institution_code="12345678",
                                       institution_name="가상의원"))
    assert outcome.dry_run and outcome.reconciliation.balanced
    assert {e["entity"]: (e["exported"], e["quarantined"]) for e in outcome.reconciliation.to_dict()["entities"]} == {
        "patient": (20, 0), "encounter": (20, 0), "diagnosis": (20, 0)}


def test_a_visit_time_kept_in_utc_is_read_as_utc_and_a_local_one_preferred(tmp_path: Path) -> None:
    # Before: a visit table whose only time is dtVisitUTC had its UTC times taken for Korean ones (no tz: every
    # Encounter.period.start 9 hours early, silently); where a local time is unnamed (dtSeen) beside the UTC one,
    # the first date-like column, the UTC one, was taken.
    path = tmp_path / "utc.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE tblPatient (PatientID INTEGER PRIMARY KEY, ChartNo TEXT, FullName TEXT);
        CREATE TABLE tblVisit (VisitID INTEGER PRIMARY KEY, PatientID INTEGER, dtVisitUTC TEXT);
        INSERT INTO tblPatient VALUES (1, '000001', '김민준');
        INSERT INTO tblVisit VALUES (1, 1, '2024-01-05 00:30:00');
    """)
    conn.commit()
    conn.close()
    outcome = write_scaffold("utc", tmp_path / "out", SourceAddress(database=path))
    text = outcome.connector_toml.read_text(encoding="utf-8")
    assert 'start = { column = "dtVisitUTC", type = "datetime", tz = "UTC", required = true }' in text
    outcome = run_export(ExportRequest(connector="utc", source=SourceAddress(database=path),
                                       connectors_dirs=(tmp_path / "out",), institution_code="12345678",
                                       institution_name="가상의원"))
    assert outcome.reconciliation.balanced
    spec = load_spec(tmp_path / "out" / "utc")
    assert (spec.entities["encounter"].fields["start"].tz, spec.entities["encounter"].table) == ("UTC", "tblVisit")
    path.unlink()
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE tblPatient (PatientID INTEGER PRIMARY KEY, ChartNo TEXT, FullName TEXT);
        CREATE TABLE tblVisit (VisitID INTEGER PRIMARY KEY, PatientID INTEGER, dtCreatedUtc TEXT, dtSeen TEXT);
        INSERT INTO tblPatient VALUES (1, '000001', '김민준');
        INSERT INTO tblVisit VALUES (1, 1, '2024-01-05 00:30:00', '2024-01-05 09:30:00');
    """)
    conn.commit()
    conn.close()
    outcome = write_scaffold("utc2", tmp_path / "out", SourceAddress(database=path))
    text = outcome.connector_toml.read_text(encoding="utf-8")
    assert 'start = { column = "dtSeen", type = "datetime", required = true }' in text


def test_the_new_generation_of_a_vendor_change_is_taken_before_the_earlier_one(tmp_path: Path) -> None:
    # Before: tblPatient (the earlier EMR's patients, chart numbers no visit refers to) was taken, as the first
    # of two equally fitting tables in name order, and the visits of tblPatientNew's patients had no patient.
    path = tmp_path / "gen.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE tblPatient (PatientID INTEGER PRIMARY KEY, ChartNo TEXT, PtName TEXT);
        CREATE TABLE tblPatientNew (PatientGUID TEXT PRIMARY KEY, ChartNo TEXT, PtName TEXT);
        CREATE TABLE tblVisit (VisitID INTEGER PRIMARY KEY, PatientGUID TEXT, dtVisit TEXT);
    """)
    for i in range(1, 11):
        guid = f"5eed0000-0000-0000-0000-{i:012d}"
        conn.execute("INSERT INTO tblPatient VALUES (?, ?, '옛환자')", (i, f"{i:06d}"))
        conn.execute("INSERT INTO tblPatientNew VALUES (?, ?, '새환자')", (guid, f"N{i:05d}"))
        conn.execute("INSERT INTO tblVisit VALUES (?, ?, '2024-01-05 09:30:00')", (i, guid))
    conn.commit()
    conn.close()
    spec = load_spec(write_scaffold("gen", tmp_path / "out", SourceAddress(database=path)).connector_toml.parent)
    assert (spec.entities["patient"].table, spec.entities["encounter"].fields["patient_id"].column) == (
        "tblPatientNew", "PatientGUID")


def test_a_payments_table_named_in_english_is_the_payment_section(tmp_path: Path) -> None:
    """PAY_DTL beside the receipts (RECEIPTS): its own patient, receipt, time, amount, method, approval and
    cash-receipt numbers guessed by their English names (before: no canonical record; the table carried raw)."""
    path = tmp_path / "pay.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE PATIENTS (PATIENT_ID INTEGER PRIMARY KEY, CHART_NO TEXT, PATIENT_NAME TEXT, BIRTH_DATE TEXT);
        CREATE TABLE RECEIPTS (RCPT_NO INTEGER PRIMARY KEY, PATIENT_ID INTEGER, RCPT_DATE TEXT, TOT_AMT INTEGER,
            PAID_AMT INTEGER);
        CREATE TABLE PAY_DTL (PAY_SEQ INTEGER PRIMARY KEY, RCPT_NO INTEGER, PATIENT_ID INTEGER, PAY_DTTM TEXT,
            PAY_AMT INTEGER, PAY_METHOD TEXT, APPR_NO TEXT, CASH_RCPT_NO TEXT);
    """)
    for n in range(1, 41):
        day = f"2024-{1 + n % 12:02d}-{1 + n % 28:02d}"
        conn.execute("INSERT INTO PATIENTS VALUES (?, ?, ?, ?)", (n, f"C{n:05d}", f"Patient {n}", "1960-01-01"))
        conn.execute("INSERT INTO RECEIPTS VALUES (?, ?, ?, ?, ?)", (n, n, day, 10000 + n, 3000 + n))
        conn.execute("INSERT INTO PAY_DTL VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     (n, n, n, f"{day} 10:0{n % 10}:00", 3000 + n, ("CARD", "CASH")[n % 2],
                      f"{n:08d}" if n % 2 == 0 else None, f"X{n:07d}" if n % 2 else None))
    conn.commit()
    conn.close()
    outcome = write_scaffold("pay", tmp_path / "out", SourceAddress(database=path))
    spec = load_spec(outcome.folder)
    payment = spec.entities["payment"]
    assert (payment.table, payment.key) == ("PAY_DTL", "PAY_SEQ")
    assert {f: (s.column, s.type, s.ref) for f, s in payment.fields.items()} == {
        "patient_id": ("PATIENT_ID", "ref", "patient"), "receipt_id": ("RCPT_NO", "ref", "receipt"),
        "paid": ("PAY_DTTM", "datetime", None), "amount": ("PAY_AMT", "decimal", None),
        "method_text": ("PAY_METHOD", "text", None), "approval_number": ("APPR_NO", "text", None),
        "cash_receipt_number": ("CASH_RCPT_NO", "text", None)}
    assert spec.entities["receipt"].table == "RECEIPTS"
    exported = run_export(ExportRequest(connector="pay", source=SourceAddress(database=path),
                                        connectors_dirs=(outcome.folder.parent,), institution_code="99350017",
                                        institution_name="Test Clinic"))
    assert exported.dry_run and exported.reconciliation.balanced
    [row] = [e for e in exported.reconciliation.to_dict()["entities"] if e["entity"] == "payment"]
    assert (row["exported"], row["quarantined"], row["field_defects"]) == (40, 0, {})


def test_name_parts_named_after_the_word_name_are_the_patients_name(tmp_path: Path) -> None:
    """Care2x's ``care_person``: ``name_last`` and ``name_first`` (the part after the word), ``date_birth``.
    Before, no name was found, the patient table was unusable and the scaffold stopped (exit 2) on a
    Care2x-shaped clinic; the birth date was not mapped."""
    path = tmp_path / "person.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE care_person (pid INTEGER PRIMARY KEY, name_first TEXT, name_2 TEXT, name_last TEXT,
            name_others TEXT, date_birth TEXT, sex TEXT);
        CREATE TABLE care_encounter (encounter_nr INTEGER PRIMARY KEY, pid INTEGER, encounter_date TEXT);
    """)
    for n in range(1, 21):
        conn.execute("INSERT INTO care_person VALUES (?, ?, NULL, ?, '', '1960-01-02', ?)",
                     (n, f"Given{n}", f"Family{n}", "mf"[n % 2]))
        conn.execute("INSERT INTO care_encounter VALUES (?, ?, '2024-03-04 09:00:00')", (n, 1 + n % 20))
    conn.commit()
    conn.close()
    outcome = write_scaffold("person", tmp_path / "out", SourceAddress(database=path))
    spec = load_spec(outcome.folder)
    name = spec.entities["patient"].fields["name"]
    assert (spec.entities["patient"].table, name.columns, name.join) == (
        "care_person", ("name_last", "name_first"), " ")
    assert spec.entities["encounter"].fields["patient_id"].column == "pid"
    assert spec.entities["patient"].fields["birth_date"].column == "date_birth"  # the date of birth, words reversed


def test_a_medication_whose_only_name_column_is_empty_is_no_section(tmp_path: Path) -> None:
    """OSCAR's ``drugs``: ``customName`` is the only column named like a name, and it is empty in every row (the
    names are in BN and GN). Before, the order_line section read it and every prescription was quarantined as
    unmappable; now neither the order_line nor the medication_statement section is written, and the table is
    left for the contractor to map or carry whole."""
    path = tmp_path / "drugs.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE demographic (demographic_no INTEGER PRIMARY KEY, chart_no TEXT, last_name TEXT,
            first_name TEXT, sex TEXT);
        CREATE TABLE drugs (drugid INTEGER PRIMARY KEY, demographic_no INTEGER, rx_date TEXT, end_date TEXT,
            BN TEXT, GN TEXT, customName TEXT, dosage TEXT, route TEXT, unit TEXT);
    """)
    for n in range(1, 21):
        conn.execute("INSERT INTO demographic VALUES (?, ?, ?, ?, ?)", (n, f"{n:06d}", "Kim", f"P{n}", "MF"[n % 2]))
        conn.execute("INSERT INTO drugs VALUES (?, ?, '2024-01-02', '2024-02-01', 'TYLENOL 500MG', "
                     "'ACETAMINOPHEN', NULL, '500', 'PO', 'mg')", (n, 1 + n % 20))
    conn.commit()
    conn.close()
    outcome = write_scaffold("drugs", tmp_path / "out", SourceAddress(database=path))
    spec = load_spec(outcome.folder)
    assert {e.table for e in spec.entities.values()} == {"demographic"}
    text = outcome.connector_toml.read_text(encoding="utf-8")
    assert "# Commented out: no column found for required field 'edi_code or local_code or name'." in text


def test_a_birth_date_kept_as_year_month_and_day_is_read_together(tmp_path: Path) -> None:
    """OSCAR's ``demographic``: ``year_of_birth`` VARCHAR(4), ``month_of_birth`` and ``date_of_birth`` CHAR(2).
    Read together as the birth date (was: not mapped), '00' as a day or month nobody knew (the year alone); a
    day that does not exist drops the optional field only, said as its defect (was, for a field read from several
    columns: the patient quarantined, and with it the whole chart)."""
    path = tmp_path / "births.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE demographic (demographic_no INTEGER PRIMARY KEY, chart_no TEXT, last_name TEXT, "
                 "first_name TEXT, year_of_birth TEXT, month_of_birth TEXT, date_of_birth TEXT, sex TEXT)")
    births = {n: ("19" + f"{40 + n}", f"{1 + n % 12:02d}", f"{1 + n % 28:02d}") for n in range(1, 21)}
    births[3], births[4], births[5] = ("1950", "00", "00"), ("1951", "07", "00"), ("1952", "02", "30")
    for n, (year, month, day) in births.items():
        conn.execute("INSERT INTO demographic VALUES (?, ?, 'Kim', ?, ?, ?, ?, 'F')",
                     (n, f"{n:06d}", f"P{n}", year, month, day))
    conn.commit()
    conn.close()
    outcome = write_scaffold("births", tmp_path / "out", SourceAddress(database=path))
    birth = load_spec(outcome.folder).entities["patient"].fields["birth_date"]
    assert (birth.columns, birth.join, birth.type) == (("year_of_birth", "month_of_birth", "date_of_birth"), "-",
                                                       "date")
    exported = run_export(ExportRequest(connector="births", source=SourceAddress(database=path),
                                        connectors_dirs=(outcome.folder.parent,), institution_code="99350017",
                                        institution_name="Test Clinic"))
    # '1950-00-00' and '1951-07-00' read (the year, the month), '1952-02-30' the one defect
    [row] = exported.reconciliation.to_dict()["entities"]
    assert (row["exported"], row["quarantined"], row["field_defects"]) == (20, 0, {"invalid-date": 1})


def test_a_row_status_that_only_says_deleted_is_a_soft_delete(tmp_path: Path) -> None:
    """Care2x keeps ``status`` on every row: blank, or 'deleted', 'void', 'hidden' for a row deleted from the
    screens. A patient so marked is exported inactive, a visit entered-in-error (was: as ordinary ones)."""
    path = tmp_path / "status.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE care_person (pid INTEGER PRIMARY KEY, name_last TEXT, name_first TEXT, sex TEXT, status TEXT);
        CREATE TABLE care_encounter (encounter_nr INTEGER PRIMARY KEY, pid INTEGER, encounter_date TEXT,
            status TEXT);
    """)
    for n in range(1, 21):
        conn.execute("INSERT INTO care_person VALUES (?, 'Kim', ?, 'f', ?)", (n, f"P{n}", "deleted" if n == 3 else ""))
        conn.execute("INSERT INTO care_encounter VALUES (?, ?, '2024-03-04 09:00:00', ?)",
                     (n, n, "void" if n == 4 else "hidden" if n == 5 else ""))
    conn.commit()
    conn.close()
    outcome = write_scaffold("status", tmp_path / "out", SourceAddress(database=path))
    spec = load_spec(outcome.folder)
    active, status = spec.entities["patient"].fields["active"], spec.entities["encounter"].fields["status"]
    assert (active.column, active.type, active.map) == ("status", "bool", {"deleted": False})
    assert (status.column, status.type, status.map) == (
        "status", "status", {"hidden": "entered-in-error", "void": "entered-in-error"})


def test_a_korean_vital_table_of_item_codes_and_values_becomes_one_vital_signs_section_per_item(tmp_path: Path) -> None:
    # A Korean EMR's 바이탈 table: one row per measurement, 항목코드 a code of 바이탈항목 (whose 항목명 says 체중, 신장,
    # 혈압 …, its 분류 검사 for a laboratory test), 결과값 the value as text (혈압 '120/80'), 단위 the unit. Before: no
    # section read it, every row carried raw whole (no Observation); now a vital-signs section per item named as a
    # vital sign, the 혈당 rows (분류 검사, numbers) lab results, and the 메모 rows (neither) one more section keeping
    # each row whole with its reason, the filters splitting the table exactly.
    path = tmp_path / "vitals.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE patient (patient_id INTEGER PRIMARY KEY, pt_name TEXT, birth_date TEXT, sex TEXT);
        CREATE TABLE 바이탈항목 (항목코드 TEXT PRIMARY KEY, 항목명 TEXT, 분류 TEXT);
        CREATE TABLE 바이탈 (seq INTEGER PRIMARY KEY, 환자번호 INTEGER, 측정일시 TEXT, 항목코드 TEXT, 결과값 TEXT,
                            단위 TEXT);
    """)
    conn.executemany("INSERT INTO patient VALUES (?, ?, '1980-01-02', 'M')", [(i, f"환자{i}") for i in range(1, 21)])
    items = {"V01": ("체중", "70.5", "kg"), "V02": ("신장", "172", "cm"), "V03": ("혈압", "120/80", "mmHg"),
             "V04": ("맥박", "72", "회/분"), "V05": ("혈당", "98", "mg/dL"), "V06": ("체온", "36.5", "℃"),
             "V07": ("메모", "식후 측정", None)}
    conn.executemany("INSERT INTO 바이탈항목 VALUES (?, ?, ?)", [
        (code, name, {"V05": "검사", "V07": "기타"}.get(code, "활력징후")) for code, (name, _, _) in items.items()])
    rows = [(0, p, "2024-03-02 09:30:00", code, value, unit) for p in range(1, 21)
            for code, (_, value, unit) in items.items()]
    rows = [(n, *row[1:]) for n, row in enumerate(rows, 1)]
    rows[0] = (1, 1, "2024-03-02 09:30:00", "V01", "측정 안 함", "kg")  # a weight that is no number
    conn.executemany("INSERT INTO 바이탈 VALUES (?, ?, ?, ?, ?, ?)", rows)
    conn.commit()
    conn.close()
    outcome = write_scaffold("vitals", tmp_path / "out", SourceAddress(database=path))
    spec = load_spec(outcome.folder)
    sections = {n: e for n, e in spec.entities.items() if e.table == "바이탈"}
    assert sorted(sections) == ["lab_eav", "vital_eav_bp", "vital_eav_height", "vital_eav_other", "vital_eav_pulse",
                                "vital_eav_temperature", "vital_eav_weight"]
    assert {n: e.canonical for n, e in sections.items() if e.canonical != "vital_signs" and e.carry is None} == {
        "lab_eav": "lab_result"}
    lab = sections["lab_eav"]
    assert (lab.query, lab.fields["code"].column, lab.fields["name"].column, lab.fields["value"].column,
            lab.fields["unit"].column) == (
        "SELECT X.*, (SELECT LK_D.항목명 FROM 바이탈항목 LK_D WHERE LK_D.항목코드 = X.항목코드) AS SCAFFOLD_NAME "
        "FROM 바이탈 X WHERE X.항목코드 IN ('V05')", "항목코드", "SCAFFOLD_NAME", "결과값", "단위")
    weight = sections["vital_eav_weight"]
    assert (weight.query, weight.fields["weight"].column, weight.fields["weight_unit"].column) == (
        "SELECT X.* FROM 바이탈 X WHERE X.항목코드 IN ('V01')", "결과값", "단위")
    assert sections["vital_eav_other"].query == (
        "SELECT X.* FROM 바이탈 X WHERE (X.항목코드 NOT IN ('V01', 'V02', 'V03', 'V04', 'V06', 'V05') OR X.항목코드 IS "
        "NULL)")
    text = (outcome.folder / "connector.toml").read_text(encoding="utf-8")
    assert ("the rows of 바이탈's other 항목코드 types (1 seen, none named as a vital sign or a lab test: V07 메모): no "
            "record is made of them, each row is carried whole with its reason") in text
    assert (sections["vital_eav_other"].carry, sections["vital_eav_other"].fields) == (
        "a measurement of a type that is no vital sign and no lab test: kept as recorded", {})
    other = text[text.index("[entities.vital_eav_other]"):]
    other = other[:other.index("\n# ---")]
    assert other.endswith('\ncarry = "a measurement of a type that is no vital sign and no lab test: kept as recorded"\n')
    assert "\nentity = " not in other
    assert "[entities.vital_eav_other.fields]" not in text
    assert '# --- vital_eav_other (rows carried whole) ---' in text  # and no entity: no record is made
    result = run_export(ExportRequest(connector="vitals", source=SourceAddress(database=path),
                                      connectors_dirs=(tmp_path / "out",), institution_code="12345678",
                                      institution_name="가상의원"))
    assert result.reconciliation.balanced
    counts = {e["entity"]: (e["source_rows"], e["exported"], e["quarantined"])
              for e in result.reconciliation.to_dict()["entities"]}
    # the weight that is no number: its Observation says why it has no value (dataAbsentReason not-performed, the
    # cell carried raw with its reason; was: the row quarantined whole, the visit's weight missing from the chart)
    assert result.reconciliation.to_dict()["field_defects"] == {"invalid-number": 1}
    assert counts == {"patient": (20, 20, 0), "vital_eav_weight": (20, 20, 0), "vital_eav_height": (20, 20, 0),
                      "vital_eav_bp": (20, 20, 0), "vital_eav_pulse": (20, 20, 0),
                      "vital_eav_temperature": (20, 20, 0), "lab_eav": (20, 20, 0)}
    # the 메모 rows carried whole, every column as recorded (were: 20 quarantined, "a vital-signs set needs at least
    # one measurement")
    [other] = result.reconciliation.sections
    assert (other.section, other.table, other.source_rows, other.carried, other.columns) == (
        "vital_eav_other", "바이탈", 20, 20, 6)


def _two_diagnosis_tables(path: Path) -> sqlite3.Connection:
    """A Korean hospital's EMR: the outpatient diagnoses (외래진단, by visit) and the inpatient ones (입원진단, by
    admission, with an onset) in tables of different shapes, and tables named like diagnoses that hold none: a
    change history, an earlier generation, a code table, a child of 외래진단, and a 'conditions' table whose patients
    are nobody's."""
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE PATIENT (PT_NO INTEGER PRIMARY KEY, PT_NM TEXT, BIRTH_YMD TEXT, SEX TEXT);
        CREATE TABLE VISIT (VISIT_NO INTEGER PRIMARY KEY, PT_NO INTEGER, VISIT_YMD TEXT);
        CREATE TABLE 외래진단 (DX_SEQ INTEGER PRIMARY KEY, VISIT_NO INTEGER, PT_NO INTEGER, KCD_CD TEXT, DIAG_NM TEXT,
                              MAIN_YN TEXT);
        CREATE TABLE 입원진단 (ADM_DX_NO INTEGER PRIMARY KEY, PT_NO INTEGER, ADM_YMD TEXT, SANG_CD TEXT,
                              SANG_NM TEXT, ONSET_YMD TEXT, JU_YN TEXT, WARD TEXT);
        CREATE TABLE DIAG_HIST (HIST_NO INTEGER PRIMARY KEY, PT_NO INTEGER, KCD_CD TEXT, DIAG_NM TEXT, CHG_GB TEXT,
                                CHG_DTTM TEXT);
        CREATE TABLE DIAG_OLD (OLD_NO INTEGER PRIMARY KEY, PT_NO INTEGER, KCD_CD TEXT, DIAG_NM TEXT, DX_YMD TEXT);
        CREATE TABLE DIAG_CODE (KCD_CD TEXT PRIMARY KEY, DIAG_NM TEXT);
        CREATE TABLE 외래진단_MEMO (MEMO_NO INTEGER PRIMARY KEY, DX_SEQ INTEGER, PT_NO INTEGER, DIAG_NM TEXT);
        CREATE TABLE conditions (condition_id INTEGER PRIMARY KEY, patient_id INTEGER, icd_code TEXT, name TEXT,
                                 onset_date TEXT);
    """)
    kcd = [("J00", "급성 비인두염"), ("I10", "본태성 고혈압"), ("K29.7", "상세불명의 위염")]
    conn.executemany("INSERT INTO PATIENT VALUES (?, ?, '19800102', 'M')", [(i, f"환자{i}") for i in range(1, 21)])
    conn.executemany("INSERT INTO VISIT VALUES (?, ?, ?)", [(i, 1 + i % 20, f"202403{1 + i % 28:02d}")
                                                            for i in range(1, 41)])
    conn.executemany("INSERT INTO 외래진단 VALUES (?, ?, ?, ?, ?, ?)", [
        (i, i, 1 + i % 20, *kcd[i % 3], "Y") for i in range(1, 41)])
    # 입원진단's keys 1-12 are 외래진단's keys too; row 12 has only its name (no code), row 11 neither
    conn.executemany("INSERT INTO 입원진단 VALUES (?, ?, '20240310', ?, ?, '20240301', 'Y', '3병동')", [
        (i, 1 + i % 20, None if i >= 11 else kcd[i % 3][0], None if i == 11 else kcd[i % 3][1])
        for i in range(1, 13)])
    conn.executemany("INSERT INTO DIAG_HIST VALUES (?, ?, 'J00', '급성 비인두염', 'U', '20240302120000')",
                     [(i, i) for i in range(1, 6)])
    conn.executemany("INSERT INTO DIAG_OLD VALUES (?, ?, 'I10', '본태성 고혈압', '20100101')", [(i, i) for i in range(1, 6)])
    conn.executemany("INSERT INTO DIAG_CODE VALUES (?, ?)", kcd)
    conn.executemany("INSERT INTO 외래진단_MEMO VALUES (?, ?, ?, '재진 시 확인')", [(i, i, 1 + i % 20) for i in range(1, 6)])
    conn.executemany("INSERT INTO conditions VALUES (?, ?, 'E11.9', '당뇨병', '2020-01-01')",
                     [(i, 900 + i) for i in range(1, 6)])
    conn.commit()
    return conn


def test_a_second_table_of_a_kind_shaped_otherwise_is_read_by_a_section_of_its_own(tmp_path: Path) -> None:
    # Before: the scaffold read one table per kind; 외래진단 (the outpatient diagnoses, another shape than 입원진단's,
    # whose columns fit a diagnosis better: its section is the first) was "not recognised" and carried raw, every
    # diagnosis in it outside FHIR.
    path = tmp_path / "twokinds.sqlite"
    _two_diagnosis_tables(path).close()
    outcome = write_scaffold("twokinds", tmp_path / "out", SourceAddress(database=path))
    spec = load_spec(outcome.folder)
    assert {name: (e.canonical, e.table) for name, e in spec.entities.items() if e.canonical == "diagnosis"} == {
        "diagnosis": ("diagnosis", "입원진단"), "diagnosis_2": ("diagnosis", "외래진단")}
    inpatient, outpatient = spec.entities["diagnosis"], spec.entities["diagnosis_2"]
    assert (inpatient.key, inpatient.fields["patient_id"].source_column, inpatient.fields["code"].source_column,
            inpatient.fields["text"].source_column, inpatient.fields["onset"].source_column) == (
        "ADM_DX_NO", "PT_NO", "SANG_CD", "SANG_NM", "ONSET_YMD")
    # its own links and fields: its visit, its code and name columns
    assert {n: f.source_column for n, f in outpatient.fields.items()
            if n in ("patient_id", "encounter_id", "code", "text")} == {
        "patient_id": "PT_NO", "encounter_id": "VISIT_NO", "code": "KCD_CD", "text": "DIAG_NM"}
    text = outcome.connector_toml.read_text(encoding="utf-8")
    assert '[entities.diagnosis_2]\n# GUESS (table name matches \'진단\'' in text and 'entity = "diagnosis"' in text
    # the history, the earlier generation and the code table carried with their reasons; the child of 외래진단 and
    # 'conditions' (its patients are nobody's: a section would orphan every row) left for the contractor, carried
    assert (set(spec.carry), set(spec.skip)) == ({"DIAG_HIST", "DIAG_OLD", "DIAG_CODE"}, set())
    assert '# "외래진단_MEMO" = ' in text and "# conditions = " in text
    result = run_export(ExportRequest(connector="twokinds", source=SourceAddress(database=path),
                                      connectors_dirs=(tmp_path / "out",), institution_code="12345678",
                                      institution_name="가상의원"))
    assert result.reconciliation.balanced
    # the inpatient diagnosis with only its name exported (a Condition of its text), the one with neither quarantined
    # (required-missing); keys 1-12 of both tables give distinct record ids (from each section's table): no
    # Condition refused as a duplicate id
    assert {(e["entity"], e["table"], e["exported"], e["quarantined"])
            for e in result.reconciliation.to_dict()["entities"] if e["table"] in ("외래진단", "입원진단")} == {
        ("diagnosis_2", "외래진단", 40, 0), ("diagnosis", "입원진단", 11, 1)}


def test_column_prefix_is_the_tables_abbreviation_every_column_starts_with() -> None:
    from emr_exporter.authoring.scaffold import column_prefix

    # Open Hospital's: the table's first letter, then others of its name in order
    assert column_prefix("PATIENT", ["PAT_ID", "PAT_FNAME", "PAT_SEX"]) == "PAT_"
    assert column_prefix("PATIENTEXAMINATION", ["PEX_ID", "PEX_PAT_ID", "PEX_AP_MAX"]) == "PEX_"
    assert column_prefix("billpayments", ["blp_id", "blp_id_bill", "blp_amount"]) == "blp_"
    assert column_prefix("tblVisit", ["VST_ID", "VST_PT_NO", "VST_DT"]) == "VST_"
    # none: a column without it, a prefix the name does not spell, too few columns, not letters
    assert column_prefix("PATIENT", ["PAT_ID", "PAT_FNAME", "NOTE"]) == ""
    assert column_prefix("VISIT", ["PT_NO", "PT_VISIT_DT", "PT_DEPT"]) == ""
    assert column_prefix("PATIENT", ["PAT_ID", "PAT_NM"]) == ""
    assert column_prefix("P1", ["P1_ID", "P1_NM", "P1_DT"]) == ""
    assert column_prefix("PATIENT", ["P_ID", "P_NM", "P_DT"]) == ""  # one letter: too little to say


def test_prefixed_columns_are_read_by_their_own_names(tmp_path: Path) -> None:
    """A schema naming every column with a prefix of its table (PAT_SEX, VIS_PAT_ID): before, only the patients'
    name was found (PAT_NAME); the sex, birth date (B_DATE), the visits' patient, the vitals (AP_MAX/AP_MIN the
    arterial pressure) were not, and PAT_ACTIVE (1 in every row) stood for active while PAT_DELETED said which
    patient was deleted."""
    path = tmp_path / "prefixed.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE PATIENT (PAT_ID INTEGER PRIMARY KEY, PAT_NAME TEXT, PAT_SEX TEXT, PAT_BDATE TEXT, "
                 "PAT_DELETED TEXT, PAT_ACTIVE INTEGER)")
    conn.execute("CREATE TABLE VISIT (VIS_ID INTEGER PRIMARY KEY, VIS_PAT_ID INTEGER, VIS_DATE TEXT)")
    conn.execute("CREATE TABLE PATIENTVITALS (PVT_ID INTEGER PRIMARY KEY, PVT_PAT_ID INTEGER, PVT_DATE TEXT, "
                 "PVT_AP_MAX INTEGER, PVT_AP_MIN INTEGER, PVT_HR INTEGER)")
    conn.executemany("INSERT INTO PATIENT VALUES (?, ?, ?, ?, ?, 1)",
                     [(i, f"환자{i}", "MF"[i % 2], f"1980-01-{i:02d}", "Y" if i == 3 else "N") for i in range(1, 9)])
    conn.executemany("INSERT INTO VISIT VALUES (?, ?, ?)", [(i, 1 + i % 8, f"2024-01-{i:02d} 09:00:00")
                                                            for i in range(1, 17)])
    conn.executemany("INSERT INTO PATIENTVITALS VALUES (?, ?, ?, ?, ?, ?)",
                     [(i, 1 + i % 8, f"2024-01-{i:02d} 09:10:00", 120 + i, 80 - i, 70) for i in range(1, 9)])
    conn.commit()
    conn.close()
    folder = write_scaffold("prefixed", tmp_path / "out", SourceAddress(database=path)).folder
    spec = load_spec(folder)
    # the guess says which prefix it left out
    text = (folder / "connector.toml").read_text(encoding="utf-8")
    assert "# GUESS (column name after its table's column prefix PAT_ matches SEX.*; every sampled" in text
    assert "# GUESS (column name after its table's column prefix VIS_ matches PAT_ID; 16 of 16 sampled" in text
    assert "# GUESS (column name matches PAT(IENT)?_?(NM|NAME))" in text
    patient = spec.entities["patient"].fields
    assert {name: patient[name].column for name in ("name", "sex", "birth_date", "active")} == {
        "name": "PAT_NAME", "sex": "PAT_SEX", "birth_date": "PAT_BDATE", "active": "PAT_DELETED"}
    assert patient["active"].map == {"Y": False, "N": True}
    assert (spec.entities["encounter"].table, spec.entities["encounter"].fields["patient_id"].column) == (
        "VISIT", "VIS_PAT_ID")
    vitals = spec.entities["vital_signs"]
    assert (vitals.table, vitals.fields["patient_id"].column, vitals.fields["systolic"].column,
            vitals.fields["diastolic"].column, vitals.fields["pulse"].column) == (
        "PATIENTVITALS", "PVT_PAT_ID", "PVT_AP_MAX", "PVT_AP_MIN", "PVT_HR")


def test_an_implant_table_is_no_vaccination_and_an_image_table_is_the_attachments(tmp_path: Path) -> None:
    """A dental clinic's implant records (``IMPL_REC``: ``MAKER_NM``, ``FIXTURE_NM``, ``LOT_NO``, ``SURG_YMD``) were
    guessed Immunizations (no name match, three columns 'fit': a bare ``…_NM`` as the vaccine, the lot, the date);
    the bare name no longer counts, and the table is carried. Its X-ray images (``XRAY_IMG``: paths and a date, no
    reading) were an imaging report of no text with the paths raw; they are the attachments now, the media type read
    off each path's extension, and the export reads the files: a ``.jpg`` image/jpeg, a ``.pdf`` application/pdf,
    a ``.raw`` application/octet-stream, a path climbing out of the folder refused with its row kept whole."""
    path = tmp_path / "dental.sqlite"
    images = tmp_path / "images"
    (images / "xray").mkdir(parents=True)
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE PT_INFO (PT_NO INTEGER PRIMARY KEY, CHART_NO TEXT, PT_NM TEXT, SEX_CD TEXT);
        CREATE TABLE IMPL_REC (IMPL_NO INTEGER PRIMARY KEY, PT_NO INTEGER, TOOTH_NO TEXT, MAKER_NM TEXT,
            FIXTURE_NM TEXT, LOT_NO TEXT, SURG_YMD TEXT);
        CREATE TABLE XRAY_IMG (IMG_NO INTEGER PRIMARY KEY, PT_NO INTEGER, IMG_TP TEXT, TAKE_YMD TEXT, FILE_PATH TEXT);
    """)
    kinds = {1: "jpg", 2: "PDF", 3: "raw"}
    for n in range(1, 13):
        conn.execute("INSERT INTO PT_INFO VALUES (?, ?, ?, ?)", (n, f"D{n:05d}", f"환자{n}", "MF"[n % 2]))
        conn.execute("INSERT INTO IMPL_REC VALUES (?, ?, '36', '오스템', 'TSIII SA', ?, '20220301')",
                     (n, n, f"LOT{2022000 + n}"))
        stored = "..\\..\\Windows\\win.ini" if n == 12 else f"xray\\{n:03d}.{kinds[n % 3 + 1]}"
        if n != 12:
            (images / "xray" / f"{n:03d}.{kinds[n % 3 + 1]}").write_bytes(bytes([n]) * (10 + n))
        conn.execute("INSERT INTO XRAY_IMG VALUES (?, ?, 'PANO', '20220302', ?)", (n, n, stored))
    conn.commit()
    conn.close()
    write_scaffold("dental", tmp_path / "out", SourceAddress(database=path))
    spec = load_spec(tmp_path / "out" / "dental")
    assert {name: e.table for name, e in spec.entities.items()} == {"patient": "PT_INFO", "attachment": "XRAY_IMG"}
    attachment = spec.entities["attachment"]
    assert (attachment.fields["content_path"].column, attachment.fields["created"].column) == ("FILE_PATH",
                                                                                                 "TAKE_YMD")
    result = run_export(ExportRequest(connector="dental", source=SourceAddress(database=path),
                                      connectors_dirs=(tmp_path / "out",), attachments_root=images,
                                      institution_code="12345678", institution_name="가상치과"))
    counts = {e["entity"]: (e["exported"], e["quarantined"]) for e in result.reconciliation.to_dict()["entities"]}
    assert counts == {"patient": (12, 0), "attachment": (11, 1)}
    assert result.reconciliation.balanced  # the climbing path's row quarantined (path-outside-root), every cell kept
    media = (attachment.fields["media_type"].expr or {})["default"]  # the same SQL on every engine
    conn = sqlite3.connect(path)
    try:
        types = dict(conn.execute(f"SELECT IMG_NO, {media} FROM XRAY_IMG WHERE IMG_NO < 4").fetchall())
    finally:
        conn.close()
    assert types == {1: "application/pdf", 2: "application/octet-stream", 3: "image/jpeg"}


def test_a_docstatus_beside_a_soft_delete_is_one_status_the_draft_kept_as_recorded(tmp_path: Path) -> None:
    """A visit's integer ``docstatus`` (0 draft, 1 submitted, 2 cancelled) beside ``del_yn``: one computed status,
    the number read as text; 2 cancelled, 1 an ordinary record, a deleted row entered-in-error whatever its
    docstatus; 0, a draft no Encounter status says, left out of the map (kept as recorded, unknown) with a # CHECK
    line. Before: both carried raw, every visit 'finished', the cancelled one too."""
    path = tmp_path / "docstatus.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE patient (patient_id INTEGER PRIMARY KEY, pt_name TEXT, birth_date TEXT, sex TEXT);
        CREATE TABLE visit (visit_id INTEGER PRIMARY KEY, patient_id INTEGER, visit_date TEXT, docstatus INTEGER,
                            del_yn TEXT);
    """)
    conn.executemany("INSERT INTO patient VALUES (?, ?, '1980-01-02', 'M')", [(i, f"환자{i}") for i in range(1, 31)])
    conn.executemany("INSERT INTO visit VALUES (?, ?, '2024-03-02', ?, ?)",
                     [(i, 1 + i % 30, 2 if i % 10 == 0 else 0 if i % 10 == 5 else 1, "Y" if i == 7 else "N")
                      for i in range(1, 41)])
    conn.commit()
    outcome = write_scaffold("docstatus", tmp_path / "out", SourceAddress(database=path))
    status = load_spec(outcome.folder).entities["encounter"].fields["status"]
    assert (status.expr, status.map) == (
        {"default": "CASE WHEN del_yn IN ('Y') THEN 'entered-in-error' ELSE CAST(docstatus AS CHAR(20)) END"},
        {"1": "", "2": "cancelled", "entered-in-error": "entered-in-error"})
    text = (outcome.folder / "connector.toml").read_text(encoding="utf-8")
    assert ("# CHECK (0 of docstatus not read: kept as recorded, the resource's status unknown; add it to the map "
            "if you know what it says)") in text
    read = dict(conn.execute(f"SELECT visit_id, {status.expr['default']} FROM visit").fetchall())
    assert (read[5], read[7], read[10], read[11]) == ("0", "entered-in-error", "2", "1")
    conn.close()
    assert _export_counts("docstatus", path, tmp_path / "out")["encounter"] == (40, 0)


def test_a_status_no_rule_reads_is_mapped_all_the_same_on_every_entity(tmp_path: Path) -> None:
    """A vaccination's 진행상태 완료/취소/보류: 완료 completed, 취소 not-done, and 보류, which no rule reads, kept as
    recorded with a # CHECK line saying the resource's usual status stands (Immunization has no unknown; before
    2026-12 the column was not mapped at all on an immunization, receipt, coverage or payment, and every
    vaccination exported 'completed', the cancelled ones too). A visit's own ``status`` none of whose values reads
    (A1/B2): mapped with no map, every value kept as recorded, unknown (before: carried raw, every visit
    'finished', nothing said). Each such record exported, none quarantined."""
    path = tmp_path / "statuses.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE patient (patient_id INTEGER PRIMARY KEY, pt_name TEXT, birth_date TEXT, sex TEXT);
        CREATE TABLE visit (visit_id INTEGER PRIMARY KEY, patient_id INTEGER, visit_date TEXT, status TEXT);
        CREATE TABLE vaccination (vacc_id INTEGER PRIMARY KEY, patient_id INTEGER, vacc_date TEXT, vaccine_name TEXT,
                                  진행상태 TEXT);
    """)
    conn.executemany("INSERT INTO patient VALUES (?, ?, '1980-01-02', 'M')", [(i, f"환자{i}") for i in range(1, 31)])
    conn.executemany("INSERT INTO visit VALUES (?, ?, '2024-03-02', ?)",
                     [(i, 1 + i % 30, "A1" if i % 3 else "B2") for i in range(1, 41)])
    conn.executemany("INSERT INTO vaccination VALUES (?, ?, '2024-03-02', '인플루엔자', ?)",
                     [(i, 1 + i % 30, "보류" if i % 10 == 0 else "취소" if i % 10 == 5 else "완료")
                      for i in range(1, 41)])
    conn.commit()
    conn.close()
    outcome = write_scaffold("statuses", tmp_path / "out", SourceAddress(database=path))
    spec = load_spec(outcome.folder)
    vaccine, visit = spec.entities["immunization"].fields["status"], spec.entities["encounter"].fields["status"]
    assert (vaccine.column, vaccine.map, visit.column, visit.map) == (
        "진행상태", {"완료": "completed", "취소": "not-done"}, "status", None)
    text = (outcome.folder / "connector.toml").read_text(encoding="utf-8")
    assert ("# CHECK (보류 of 진행상태 not read: kept as recorded, the resource's usual status (its value set has no "
            "unknown); add it to the map if you know what it says)") in text
    assert ("# CHECK (A1, B2 of status not read: kept as recorded, the resource's status unknown; add it to the map "
            "if you know what it says)") in text
    counts = _export_counts("statuses", path, tmp_path / "out")
    assert (counts["immunization"], counts["encounter"]) == ((40, 0), (40, 0))


def _visit_and_other_diagnoses(tmp_path: Path, other: str) -> ScaffoldOutcome:
    """A clinic with visits' diagnoses (상병, linked to 내원) and ``other``: KCD-coded rows by the patient's number,
    no visit link, a 관계 column."""
    path = tmp_path / "other.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(f"""
        CREATE TABLE 환자 (환자번호 TEXT PRIMARY KEY, 성명 TEXT, 생년월일 TEXT, 성별 TEXT);
        CREATE TABLE 내원 (내원번호 INTEGER PRIMARY KEY, 환자번호 TEXT, 내원일자 TEXT);
        CREATE TABLE 상병 (상병번호 INTEGER PRIMARY KEY, 내원번호 INTEGER, 환자번호 TEXT, 상병코드 TEXT, 상병명 TEXT);
        CREATE TABLE {other} (번호 INTEGER PRIMARY KEY, 환자번호 TEXT, 관계 TEXT, 상병코드 TEXT, 상병명 TEXT);
    """)
    conn.executemany("INSERT INTO 환자 VALUES (?, ?, '19800101', 'M')", [(f"P{i:03d}", f"환자{i}") for i in range(1, 21)])
    conn.executemany("INSERT INTO 내원 VALUES (?, ?, '20240102')", [(i, f"P{1 + i % 20:03d}") for i in range(1, 41)])
    conn.executemany("INSERT INTO 상병 VALUES (?, ?, ?, 'I10', '본태성 고혈압')",
                     [(i, i, f"P{1 + i % 20:03d}") for i in range(1, 41)])
    conn.executemany(f"INSERT INTO {other} VALUES (?, ?, '부', 'E11.9', '당뇨병')",
                     [(i, f"P{1 + i % 20:03d}") for i in range(1, 31)])
    conn.commit()
    conn.close()
    return write_scaffold("other", tmp_path / "out", SourceAddress(database=path))


@pytest.mark.parametrize("issued", ["DIAG_ISSUE", "DX_ISSUES", "CERT_ISSUE"])
def test_a_table_of_issued_diagnoses_is_no_problem_list(tmp_path: Path, issued: str) -> None:
    # ISSUE after a diagnosis or certificate word is an issuance (진단서 발급: DIAG_ISSUE), not a health issue: the
    # table's diagnoses are no problem-list entries. Before: DIAG_ISSUE read with problem_list = true (category
    # problem-list-item, skipped by the per-visit documents).
    outcome = _visit_and_other_diagnoses(tmp_path, issued)
    assert [f.field for g in outcome.guesses.values() for f in g.fields if f.field == "problem_list"] == []
    assert "problem_list" not in (outcome.folder / "connector.toml").read_text(encoding="utf-8")


@pytest.mark.parametrize("family", ["가족병력", "가족과거력", "FAMILY_PROBLEM"])
def test_a_family_history_table_is_no_section_of_the_patients_own_conditions(tmp_path: Path, family: str) -> None:
    # 가족병력/가족과거력 (a relative's diseases, KCD-coded, by the patient's number): its name holds 병력/과거력
    # (PROBLEM), the problem list's words, but its rows are not the patient's conditions. Before: a diagnosis
    # section with problem_list = true (the relatives' diseases the patient's problem list). Now carried raw.
    outcome = _visit_and_other_diagnoses(tmp_path, family)
    diagnoses = {k: g.table for k, g in outcome.guesses.items() if k.startswith("diagnosis")}
    assert diagnoses == {"diagnosis": "상병"}
    spec = load_spec(outcome.folder)
    assert [e.table for e in spec.entities.values() if e.table == family] == []
