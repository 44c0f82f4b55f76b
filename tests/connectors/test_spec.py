"""connector.toml validation: every error names the file, the line and the field."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest

from emr_exporter.connectors import load_connector, load_spec, locate_connectors
from emr_exporter.connectors.discovery import list_connectors
from emr_exporter.connectors.spec import ConnectorSpec, FieldSpec
from emr_exporter.connectors.transforms import TRANSFORMS, RowRejected, TransformContext
from emr_exporter.errors import ConnectorNotFound, ConnectorSpecError

MINIMAL = """\
[connector]
name = "tiny"
version = "0.1"

[source]
encoding = "cp949"
date_formats = ["%Y%m%d"]

[entities.patient]
table = "PT"
key = "PT_ID"

[entities.patient.fields]
chart_number = { column = "CHART" }
name = { column = "NM", type = "text" }
"""


def write(tmp_path: Path, text: str, name: str = "tiny") -> Path:
    folder = tmp_path / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "connector.toml").write_text(text, encoding="utf-8")
    return folder


def test_minimal_spec_loads(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, MINIMAL))
    assert spec.name == "tiny"
    assert spec.encoding == "cp949"
    assert spec.entities["patient"].fields["name"].type == "text"
    assert spec.entities["patient"].inner_sql == "SELECT * FROM PT"


@pytest.mark.parametrize(
    ("edit", "field", "line", "problem"),
    [
        (('name = { column = "NM", type = "text" }', 'nmae = { column = "NM" }'),
         "entities.patient.fields.nmae", 15, "Patient has no field 'nmae'"),
        (('key = "PT_ID"', 'key = "PT_ID; DROP TABLE PT"'),
         "entities.patient.key", 11, "is not a plain SQL identifier"),
        (('type = "text"', 'type = "txet"'),
         "entities.patient.fields.name", 15, "unknown type 'txet'"),
        (('chart_number = { column = "CHART" }\n', ''),
         "entities.patient.fields", 13, "field 'chart_number' is required by Patient but not mapped"),
        (('encoding = "cp949"', 'encoding = "klingon"'),
         "source.encoding", 6, "unknown text encoding 'klingon'"),
        (('[entities.patient]', '[entities.patients]'),
         "entities.patients", 9, "unknown entity"),
        (('version = "0.1"', 'version = "0.1"\nauthor = "x"'),
         "connector.author", 4, "unknown setting"),
        # a merged chart's survivor, as recorded: the export links the Patients itself (a self-reference of the
        # patient section said 'refers to entity patient, which this connector does not define')
        (('name = { column = "NM", type = "text" }',
          'name = { column = "NM", type = "text" }\nmerged_into = { column = "MRG", type = "ref", ref = "patient" }'),
         "entities.patient.fields.merged_into", 16, "merged_into is the surviving chart's number (or key) as recorded"),
        (('name = { column = "NM", type = "text" }', 'name = { column = "NM", type = "text" }\nreplaced_by = "MRG"'),
         "entities.patient.fields.replaced_by", 16, "Patient has no field 'replaced_by'"),
    ],
)
def test_errors_name_file_line_and_field(tmp_path: Path, edit, field, line, problem) -> None:
    folder = write(tmp_path, MINIMAL.replace(*edit))
    with pytest.raises(ConnectorSpecError) as caught:
        load_spec(folder)
    error = caught.value
    assert error.path == str(folder / "connector.toml")
    assert error.field == field
    assert error.line == line
    assert problem in error.problem
    assert str(error).startswith(f"{folder / 'connector.toml'}:{line}: {field}: ")


def test_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    folder = write(tmp_path, MINIMAL.replace('version = "0.1"', 'version = 0.1.2'))
    with pytest.raises(ConnectorSpecError, match=r"connector\.toml:3: syntax: not valid TOML"):
        load_spec(folder)


def test_ref_to_an_entity_not_defined(tmp_path: Path) -> None:
    text = MINIMAL + """
[entities.encounter]
table = "VISIT"
key = "V_ID"

[entities.encounter.fields]
patient_id = { column = "PT_ID", type = "ref", ref = "practitioner" }
start = { column = "YMD", type = "date" }
"""
    with pytest.raises(ConnectorSpecError, match="refers to entity 'practitioner', which this connector does not define"):
        load_spec(write(tmp_path, text))


def test_builtin_demo_is_found_through_the_entry_point() -> None:
    names = {loc.name: loc for loc in locate_connectors()}
    assert "demo" in names
    assert names["demo"].origin.startswith("entry point emr_exporter_connectors.demo")
    spec = load_connector("demo")
    assert spec.version and spec.encoding == "cp949"


def test_folder_connectors_and_the_environment_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "a", MINIMAL)
    write(tmp_path / "b", MINIMAL.replace('name = "tiny"', 'name = "broken"').replace('key = "PT_ID"', 'key = 1'),
          name="broken")
    monkeypatch.setenv("EMR_EXPORTER_CONNECTORS", str(tmp_path / "b"))
    found = list_connectors([tmp_path / "a"])
    by_name = {(x.name if isinstance(x, ConnectorSpec) else Path(x.path).parent.name): x for x in found}
    assert isinstance(by_name["tiny"], ConnectorSpec)
    assert by_name["tiny"].origin == f"folder {tmp_path / 'a' / 'tiny'}"
    assert isinstance(by_name["broken"], ConnectorSpecError)
    assert "demo" in by_name
    with pytest.raises(ConnectorNotFound, match="No connector named 'nope' is installed"):
        load_connector("nope")


# --- transforms ----------------------------------------------------------------------------------

CTX = TransformContext(
    spec=ConnectorSpec(name="t", version="1", path=Path("."), encoding="cp949", date_formats=("%Y%m%d",)),
    attachments_root=None,
)


def apply(kind: str, value, **extra):
    return TRANSFORMS[kind](value, FieldSpec(name="f", type=kind, **extra), CTX)


@pytest.mark.parametrize("value", ["20230230", "00000000", "2023-02-01", "abc"])
def test_impossible_dates_are_rejected(value: str) -> None:
    with pytest.raises(RowRejected) as caught:
        apply("date", value)
    assert caught.value.reason_code == "invalid-date"
    assert value not in caught.value.reason  # messages never carry the value


def test_values() -> None:
    assert apply("date", "20240229") == dt.date(2024, 2, 29)
    assert apply("text", "똠방각하".encode("cp949")) == "똠방각하"
    assert apply("decimal", "1,234.50") == Decimal("1234.50")
    assert apply("rrn", "8001011234567") == "800101-1234567"
    assert apply("kcd_edition", "20151231") == "kcd-6"
    assert apply("kcd_edition", "20160101") == "kcd-7"
    assert apply("kcd_edition", "20210101") == "kcd-8"
    assert apply("kcd_edition", "20260101") == "kcd-9"
    assert apply("bool", "Y") is True
    assert apply("code", "M", map={"M": "male"}) == "male"


@pytest.mark.parametrize(
    ("kind", "value", "code"),
    [
        ("text", b"\xff\xfe\xfd", "bad-encoding"),
        ("text", "????", "lossy-text"),
        ("rrn", "80010112345", "invalid-rrn"),
        ("int", "12.5", "invalid-number"),
        ("bool", "maybe", "invalid-bool"),
    ],
)
def test_rejections(kind: str, value, code: str) -> None:
    with pytest.raises(RowRejected) as caught:
        apply(kind, value)
    assert caught.value.reason_code == code


def test_file_paths_cannot_leave_the_attachment_root(tmp_path: Path) -> None:
    root = tmp_path / "att"
    (root / "2024").mkdir(parents=True)
    (root / "2024" / "a.pdf").write_bytes(b"%PDF")
    (tmp_path / "secret.txt").write_text("x")
    ctx = TransformContext(spec=CTX.spec, attachments_root=root)
    field = FieldSpec(name="content_path", type="file")
    assert TRANSFORMS["file"]("2024/a.pdf", field, ctx) == str((root / "2024" / "a.pdf").resolve())
    for bad in ("../secret.txt", "/etc/passwd", "2024/../../secret.txt", "C:\\Windows\\win.ini", "..\\secret.txt"):
        with pytest.raises(RowRejected) as caught:
            TRANSFORMS["file"](bad, field, ctx)
        assert caught.value.reason_code == "path-outside-root", bad
    (root / "link.pdf").symlink_to(tmp_path / "secret.txt")
    with pytest.raises(RowRejected) as caught:
        TRANSFORMS["file"]("link.pdf", field, ctx)
    assert caught.value.reason_code == "path-outside-root"
    with pytest.raises(RowRejected) as caught:
        TRANSFORMS["file"]("2024/missing.pdf", field, ctx)
    assert caught.value.reason_code == "file-missing"


def test_detect_files_and_dsn_names_load(tmp_path: Path) -> None:
    text = MINIMAL.replace("[source]", '[detect]\nfiles = ["{ProgramData}/Tiny/*.db", "/opt/tiny/data.db"]\n'
                                       'dsn_names = ["(?i)tiny.*", "TINYEMR"]\n\n[source]')
    spec = load_spec(write(tmp_path, text))
    assert spec.detect_files == ("{ProgramData}/Tiny/*.db", "/opt/tiny/data.db")
    assert spec.detect_dsn_names == ("(?i)tiny.*", "TINYEMR")


@pytest.mark.parametrize(
    ("detect", "field", "problem"),
    [
        ('files = ["{AppData}/x.db"]', "detect.files",
         "unknown placeholder {AppData} in '{AppData}/x.db'; known: {ProgramData}, {ProgramFiles}, "
         "{ProgramFiles(x86)}, {UserProfile}, {Home}"),
        ('files = ["{Home}/**/x.db"]', "detect.files", "'{Home}/**/x.db': '**' is not allowed; name the folders"),
        ('files = ["data/x.db"]', "detect.files",
         "'data/x.db' must start with a placeholder such as {ProgramData} or be an absolute path"),
        ('files = "x.db"', "detect.files", "must be a list of strings"),
        ('dsn_names = ["(unclosed"]', "detect.dsn_names", "'(unclosed' is not a valid regular expression"),
    ],
)
def test_detect_place_errors_name_file_line_and_field(tmp_path: Path, detect: str, field: str, problem: str) -> None:
    folder = write(tmp_path, MINIMAL.replace("[source]", f"[detect]\ntables = [\"PT\"]\n{detect}\n\n[source]"))
    with pytest.raises(ConnectorSpecError) as caught:
        load_spec(folder)
    assert (caught.value.field, caught.value.line) == (field, 7)
    assert caught.value.problem.startswith(problem)


@pytest.mark.parametrize(("table", "problem"), [
    ("his.PT", None),
    ("PT", None),
    # any other name the database may have (Frappe's "tabPatient Encounter"): the export names it quoted, as the
    # catalogue spells it, never spliced into its SQL (was refused: "is not a plain SQL table name")
    ("tabPatient Encounter", None),
    ("his.pt.x", None),
    ("PT; DROP TABLE PT", None),
    # what no engine's quoting of a name takes: refused
    ("PT`; DROP TABLE PT", "'PT`; DROP TABLE PT' is no table name"),
    ("[PT]", "'[PT]' is no table name"),
    ('PT\\"', "'PT\"' is no table name"),
    ("PT\\t", "'PT\\t' is no table name"),
    (" ", "' ' is no table name"),
])
def test_a_section_table_may_be_schema_qualified(tmp_path: Path, table: str, problem: str | None) -> None:
    text = MINIMAL.replace('table = "PT"', f'table = "{table}"')
    if problem is None:
        assert load_spec(write(tmp_path, text)).entities["patient"].table == table
    else:
        with pytest.raises(ConnectorSpecError, match=re.escape(problem)):
            load_spec(write(tmp_path, text))


def test_a_bool_maps_values_are_true_or_false_without_quotes(tmp_path: Path) -> None:
    # Before: map = { "N" = "false" } loaded, and the text "false", not empty, made every N a yes.
    folder = write(tmp_path, MINIMAL + """
[entities.encounter]
table = "VISIT"
key = "V_ID"

[entities.encounter.fields]
patient_id = { column = "PT_ID", type = "ref", ref = "patient", required = true }
start = { column = "V_DT", type = "date", required = true }
night_or_holiday = { column = "NIGHT_YN", type = "bool", map = { "Y" = true, "N" = "false" } }
""")
    with pytest.raises(ConnectorSpecError) as caught:
        load_spec(folder)
    assert (caught.value.field, caught.value.line, caught.value.problem) == (
        "entities.encounter.fields.night_or_holiday", 24,
        "a 'bool' map gives true or false (without quotes) for each source value; the value for 'N' is not")


@pytest.mark.parametrize(("value", "problem"), [
    ('value = "Y", type = "bool"', "a 'bool' value is true or false (without quotes)"),
    ('value = "1", type = "int"', "an 'int' value is a whole number (without quotes)"),
    ('value = "2024-01-05", type = "date"', "a constant 'value' is given as written: type 'date' does not apply "
     "(leave out the type for text; 'bool' and 'int' take true/false and numbers)"),
])
def test_a_constant_value_is_of_its_type_as_written(tmp_path: Path, value: str, problem: str) -> None:
    # Before: night_or_holiday = { value = "Y", type = "bool" } loaded, and the record's bool field held the text
    # "Y": FHIR's valueBoolean "Y" in the bag (a constant is given to the record untransformed).
    folder = write(tmp_path, MINIMAL + f"""
[entities.encounter]
table = "VISIT"
key = "V_ID"

[entities.encounter.fields]
patient_id = {{ column = "PT_ID", type = "ref", ref = "patient", required = true }}
start = {{ column = "V_DT", type = "date", required = true }}
night_or_holiday = {{ {value} }}
""")
    with pytest.raises(ConnectorSpecError) as caught:
        load_spec(folder)
    assert (caught.value.field, caught.value.line, caught.value.problem) == (
        "entities.encounter.fields.night_or_holiday", 24, problem)
    good = write(tmp_path, (folder / "connector.toml").read_text(encoding="utf-8").replace(value, "value = true"))
    assert load_spec(good).entities["encounter"].fields["night_or_holiday"].value is True


def test_a_field_without_type_reads_the_kind_of_value_its_record_holds(tmp_path: Path) -> None:
    # Before: every field without `type` was text, so `birth_date = { column = "BIRTH" }` gave the Patient a
    # str and the export stopped with an AttributeError in the FHIR mapping ("This is a bug").
    folder = write(tmp_path, MINIMAL.replace('name = { column = "NM", type = "text" }', '''name = { column = "NM" }
birth_date = "BIRTH"
deceased = { column = "DEAD" }
death_date = { column = "DOD" }
active = { value = true }'''))
    fields = load_spec(folder).entities["patient"].fields
    assert {n: f.type for n, f in fields.items()} == {
        "chart_number": "text", "name": "text", "birth_date": "date", "deceased": "bool", "death_date": "datetime",
        "active": "text"}


def test_carry_lists_tables_carried_on_purpose_with_their_reason(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, MINIMAL + '\n[carry]\nCODE_MST = "what the codes mean"\n"SMS 로그" = "texts"\n'))
    assert spec.carry == {"CODE_MST": "what the codes mean", "SMS 로그": "texts"} and spec.skip == {}


@pytest.mark.parametrize(
    ("tables", "field", "problem"),
    [
        ('[carry]\nPT = "x"\n', "carry.PT",
         "is read by [entities.patient]; it cannot be carried (its unmapped columns are carried with its records)"),
        ('[carry]\nLOG = ""\n', "carry.LOG", "give the reason as a non-empty string (why this table is carried as it is)"),
        ('[skip]\nLOG = "old"\n[carry]\nlog = "new"\n', "carry.log",
         "is under [skip] too: a table is carried or skipped, not both"),
    ],
)
def test_carry_errors_name_the_table(tmp_path: Path, tables: str, field: str, problem: str) -> None:
    with pytest.raises(ConnectorSpecError) as caught:
        load_spec(write(tmp_path, MINIMAL + "\n" + tables))
    assert (caught.value.field, caught.value.problem) == (field, problem)


def test_a_type_the_records_text_field_cannot_hold_is_refused(tmp_path: Path) -> None:
    # A lab result's value (kept as the text recorded) typed decimal loaded, and its first row stopped the
    # export with "an unexpected problem (TypeError) stopped emr-exporter at encoder.py:180 … This is a bug".
    for kind in ("decimal", "int", "bool", "date", "datetime"):
        text = MINIMAL.replace('name = { column = "NM", type = "text" }', f'name = {{ column = "NM", type = "{kind}" }}')
        with pytest.raises(ConnectorSpecError) as caught:
            load_spec(write(tmp_path, text))
        assert (caught.value.field, caught.value.problem) == (
            "entities.patient.fields.name",
            f"type '{kind}' does not fit: the record keeps 'name' as the text recorded; leave out the type")
    assert load_spec(write(tmp_path, MINIMAL.replace(
        'name = { column = "NM", type = "text" }', 'name = { column = "NM" }\nbirth_date = { column = "B", type = "date" }'
    ))).entities["patient"].fields["birth_date"].type == "date"


@pytest.mark.parametrize(("edit", "field", "line", "refused"), [
    (('key = "PT_ID"', 'key = "PT_ID"\nquery = "SELECT * FROM PT WHERE meta ? \'vip\'"'),
     "entities.patient.query", 12, True),
    (('key = "PT_ID"', 'key = "PT_ID"\nquery = "SELECT * FROM PT WHERE meta ?| array[\'a\', \'b\']"'),
     "entities.patient.query", 12, True),
    (('name = { column = "NM", type = "text" }', 'name = { expr = { postgresql = "NM || (meta ? \'a\')::text" } }'),
     "entities.patient.fields.name", 15, True),
    # a ? in a string, a quoted name, a comment or a dollar-quoted string is no parameter
    (('key = "PT_ID"', 'key = "PT_ID"\nquery = """SELECT *, \'?\' AS q, "a?" AS b FROM PT -- why?\nWHERE $$?$$ <> \'\'"""'),
     "", 0, False),
    (('key = "PT_ID"', 'key = "PT_ID"\nquery = "SELECT *, \'C:\\\\\\\\\', \'?\' FROM PT"'), "", 0, False),
])
def test_a_question_mark_in_a_query_is_refused_with_what_to_write(tmp_path: Path, edit, field: str, line: int,
                                                                   refused: bool) -> None:
    # Before: the export stopped with "A query on the clinic database failed: [07002] The # of binded parameters <
    # the # of parameter markers (32) (SQLExecDirectW)", naming neither the section nor the jsonb operator
    folder = write(tmp_path, MINIMAL.replace(*edit))
    if not refused:
        load_spec(folder)
        return
    with pytest.raises(ConnectorSpecError) as caught:
        load_spec(folder)
    assert (caught.value.field, caught.value.line) == (field, line)
    assert caught.value.problem == (
        "holds a '?', which the database driver takes for a parameter of its own and fails on: for PostgreSQL's "
        "jsonb operators write jsonb_exists(col, 'key') for ?, jsonb_exists_any(col, array[…]) for ?| and "
        "jsonb_exists_all(col, array[…]) for ?&")


RECEIPTS = MINIMAL + """
[entities.receipt]
table = "RCPT"
key = "RCPT_NO"

[entities.receipt.fields]
patient_id = { column = "PT_ID", type = "ref", ref = "patient", required = true }
issued = { column = "YMD", type = "date" }
cancels_id = { column = "ORG_RCPT_NO", type = "ref", ref = "receipt" }
"""


def test_a_refund_receipt_refers_to_a_receipt_of_its_own_section(tmp_path: Path) -> None:
    # model.SELF_REFERENCES: the one reference that may name its own section (any other said 'refers to entity
    # receipt, which this connector does not define')
    spec = load_spec(write(tmp_path, RECEIPTS))
    cancels = spec.entities["receipt"].fields["cancels_id"]
    assert (cancels.type, cancels.ref, cancels.ref_field) == ("ref", "receipt", None)
    # by a unique field of its own section: mapped from a column and listed in unique
    by_number = RECEIPTS.replace('key = "RCPT_NO"', 'key = "RCPT_NO"\nunique = ["number"]').replace(
        'ref = "receipt" }', 'ref = "receipt.number" }\nnumber = "RCPT_TXT"')
    assert load_spec(write(tmp_path, by_number, "by_number")).entities["receipt"].fields["cancels_id"].ref_field == (
        "number")
    not_unique = by_number.replace('unique = ["number"]', "")
    with pytest.raises(ConnectorSpecError, match=r"'receipt.number': map 'number' from a column and list it in "
                                                 r"unique"):
        load_spec(write(tmp_path, not_unique, "not_unique"))
    composite = RECEIPTS.replace('key = "RCPT_NO"', 'key = ["RCPT_YY", "RCPT_NO"]')
    with pytest.raises(ConnectorSpecError, match="receipt has a composite key: refer to one of its unique fields"):
        load_spec(write(tmp_path, composite, "composite"))
    # only that field: a receipt's encounter_id naming the receipt section is still an error
    other = RECEIPTS.replace("cancels_id = {", "encounter_id = {")
    with pytest.raises(ConnectorSpecError, match="refers to entity 'receipt', which this connector does not define"):
        load_spec(write(tmp_path, other, "other"))
