"""Bookings (예약) become FHIR Appointments, never Encounters: two clinics that keep a booking table beside their visits
(tests/connectors/appointment_clinic.py) through the IT contractor's flow (``scaffold`` → ``connector check`` → dry
run → sealed ``export`` → ``verify`` → ``open``), the scaffold's connector untouched, every cell of the source
rebuilt from the opened bag (tests/lossless_kit.py).

SQLite: a Korean ``예약`` table, its day and time in columns of their own, 예약/내원/완료/취소/부도 and an unread 보류.
PostgreSQL: an English ``appointment`` table with a timestamp, a duration in minutes and booked/arrived/fulfilled/
cancelled/noshow/no-show and an unread 'rescheduled'.

Before: the booking tables were carried raw whole (no canonical type); a patient's 진료사실확인서 counts visits, and a
booking is no visit, so a booking must never become an Encounter.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from emr_exporter import model
from emr_exporter.connectors.spec import load_spec
from emr_exporter.errors import MappingError
from emr_exporter.jobs.authoring import write_scaffold
from emr_exporter.pipeline import fhir
from emr_exporter.sources.address import SourceAddress
from emr_exporter.sources.base import SqliteFileSource
from emr_exporter.sources.odbc import OdbcSource
from lossless_kit import check_bag_against_source
from test_foreign_schemas import checked, exported, scaffolded

sys.path.insert(0, str(Path(__file__).parent / "connectors"))
from appointment_clinic import (
    BOOKINGS,
    DAY_ONLY,
    DOCTORS,
    EN_STATUS,
    KO_STATUS,
    ORPHAN,
    PATIENTS,
    VISITS,
    build_english_postgres,
    build_korean_sqlite,
)

INSTITUTION = model.Institution(code="12345678", name="햇살의원")


def _lines(bag: Path, resource_type: str) -> list[dict[str, Any]]:
    return [json.loads(line) for path in sorted(bag.glob(f"data/fhir/{resource_type}.*.ndjson"))
            for line in path.read_bytes().splitlines()]


def _by_key(bag: Path, resource_type: str) -> dict[str, dict[str, Any]]:
    return {next(i["value"] for i in r["identifier"] if i.get("use") == "secondary"): r
            for r in _lines(bag, resource_type)}


def _appointment(**kw: Any) -> dict[str, Any]:
    record = model.Appointment(id="a", provenance=model.Provenance("t", "예약", "1"),
                               patient_id=model.record_id("t", "PATIENT", "1"), **kw)
    (resource,) = fhir.to_fhir(record, institution=INSTITUTION)
    return resource


def test_a_booking_is_an_appointment_with_its_time_its_doctor_and_its_status() -> None:
    patient = {"actor": {"reference": f"Patient/{model.record_id('t', 'PATIENT', '1')}"}, "status": "accepted"}
    full = _appointment(start=dt.datetime(2024, 3, 4, 9, 30), minutes=15, practitioner_id="d", department="내과",
                        service_type="재진", reason="혈압약 처방", note="보호자 동반",
                        created=dt.datetime(2024, 3, 1, 14, 5), status="noshow")
    assert {k: v for k, v in full.items() if k not in ("id", "meta", "identifier")} == {
        "resourceType": "Appointment", "status": "noshow", "serviceType": [{"text": "재진"}],
        "specialty": [{"text": "내과"}], "description": "혈압약 처방", "start": "2024-03-04T09:30:00+09:00",
        "end": "2024-03-04T09:45:00+09:00", "minutesDuration": 15, "created": "2024-03-01T14:05:00+09:00",
        "comment": "보호자 동반",
        "participant": [patient, {"actor": {"reference": "Practitioner/d"}, "status": "accepted"}]}
    # a booking is kept on the patient roster's retention, not as a medical record
    assert full["meta"]["tag"][0]["code"] == "patient-roster"
    # kept to its day only: the whole day (no hour invented); a recorded end as recorded
    day = _appointment(start=dt.date(2024, 3, 4))
    assert (day["start"], day["end"], day["status"]) == ("2024-03-04T00:00:00+09:00", "2024-03-05T00:00:00+09:00",
                                                          "booked")
    ends = _appointment(start=dt.datetime(2024, 3, 4, 9, 30), end=dt.datetime(2024, 3, 4, 10, 0))
    assert (ends["end"], "minutesDuration" in ends) == ("2024-03-04T10:00:00+09:00", False)
    # a status no map reads: the usual booked (Appointment's value set has no unknown), the text kept beside it
    unread = _appointment(start=dt.datetime(2024, 3, 4, 9, 30), recorded_status="보류")
    assert unread["status"] == "booked" and fhir.status_kept_as_recorded(
        model.Appointment(id="a", provenance=model.Provenance("t", "예약", "1"), patient_id="p",
                          start=dt.date(2024, 1, 1), recorded_status="보류")) == "보류"
    with pytest.raises(MappingError, match="minutes: must be 1 or more"):
        _appointment(start=dt.datetime(2024, 3, 4, 9, 30), minutes=0)
    with pytest.raises(MappingError, match="status: is not a known record status"):
        _appointment(start=dt.datetime(2024, 3, 4, 9, 30), status="finished")  # an Encounter's, not a booking's


#: R4's Appointment invariants on start and end: app-2 both or neither; app-3 only these statuses may have neither.
_UNPLACED = ("proposed", "cancelled", "waitlist")


def _assert_r4_start_and_end(resource: dict[str, Any]) -> None:
    assert ("start" in resource) == ("end" in resource), resource  # app-2
    assert "start" in resource or resource["status"] in _UNPLACED, resource  # app-3
    assert "start" not in resource or resource["start"] <= resource["end"], resource


@pytest.mark.parametrize("status", sorted(model.STATUS_VALUES["appointment"]))
def test_a_booked_time_with_no_end_or_length_keeps_start_and_end_together(status: str) -> None:
    """R4's app-2 (start and end together or neither) and app-3 (only proposed, cancelled and waitlist may have
    neither): a booked time with no end and no length is no ``start`` alone. No length is invented and the time is
    not lost: the booked time is the ``requestedPeriod``'s start; a booking the status places (booked, arrived,
    noshow …) spans the booked day, as one kept to its day alone; proposed, cancelled and waitlist need no place."""
    resource = _appointment(start=dt.datetime(2024, 3, 4, 9, 30), status=status)
    _assert_r4_start_and_end(resource)
    assert resource["requestedPeriod"] == [{"start": "2024-03-04T09:30:00+09:00"}]
    assert "minutesDuration" not in resource
    if status in _UNPLACED:
        assert "start" not in resource
    else:
        assert (resource["start"], resource["end"]) == ("2024-03-04T00:00:00+09:00", "2024-03-05T00:00:00+09:00")
    # a time with a zone elsewhere: the day is the clinic's (23:00 UTC is 08:00 the next day in Korea)
    utc = _appointment(start=dt.datetime(2024, 3, 4, 23, 0, tzinfo=dt.UTC), status=status)
    _assert_r4_start_and_end(utc)
    assert utc["requestedPeriod"] == [{"start": "2024-03-04T23:00:00+00:00"}]
    if status not in _UNPLACED:
        assert (utc["start"], utc["end"]) == ("2024-03-05T00:00:00+09:00", "2024-03-06T00:00:00+09:00")
    # with an end or a length, the time is the start itself and no requested period is written
    for kept in (_appointment(start=dt.datetime(2024, 3, 4, 9, 30), minutes=15, status=status),
                 _appointment(start=dt.datetime(2024, 3, 4, 9, 30), end=dt.datetime(2024, 3, 4, 10), status=status)):
        _assert_r4_start_and_end(kept)
        assert (kept["start"], "requestedPeriod" in kept) == ("2024-03-04T09:30:00+09:00", False)


def test_the_scaffold_takes_bookings_by_name_with_a_patient_link_and_never_for_visits(tmp_path: Path) -> None:
    """General rules, on names no clinic here uses: a table named as bookings with a patient link is appointments (its
    DOUBLE duration, hours, carried raw); a booking table is never taken for visits, even with no visit table beside
    it; a doctor's SCHEDULE (no patient) is no booking."""
    db = tmp_path / "c.db"
    conn = sqlite3.connect(db)
    conn.executescript("""
        CREATE TABLE PT (PT_NO TEXT PRIMARY KEY, PT_NM TEXT, SEX TEXT, BIRTH_YMD TEXT);
        CREATE TABLE RESV_MST (RESV_NO INTEGER PRIMARY KEY, PT_NO TEXT, RESV_DTTM TEXT, DURATION DOUBLE,
                               RESV_STAT TEXT, RESV_MEMO TEXT);
        CREATE TABLE DR_SCHEDULE (SCH_NO INTEGER PRIMARY KEY, DR_ID TEXT, SCHED_DATE TEXT, ROOM TEXT);
    """)
    conn.executemany("INSERT INTO PT VALUES (?, ?, ?, ?)",
                     [(f"{i:06d}", f"환자{i}", "MF"[i % 2], f"19{50 + i:02d}0101") for i in range(1, 41)])
    conn.executemany("INSERT INTO RESV_MST VALUES (?, ?, ?, ?, ?, ?)",
                     [(i, f"{i % 40 + 1:06d}", f"2024-03-{i % 28 + 1:02d} 09:{i % 6}0:00", 0.25,
                       ("예약", "내원", "취소", "노쇼", "예약확정")[i % 5], None) for i in range(1, 61)])
    conn.executemany("INSERT INTO DR_SCHEDULE VALUES (?, ?, ?, ?)",
                     [(i, "D1", f"2024-03-{i:02d}", "1진료실") for i in range(1, 21)])
    conn.commit()
    conn.close()
    text = write_scaffold("c", tmp_path / "c", SourceAddress(database=db)).connector_toml.read_text(encoding="utf-8")
    sections = dict(re.findall(r'\[entities\.(\w+)\]\n# GUESS \([^)]*\)\ntable = "(\w+)"', text))
    # no encounter at all: the only dated table of a patient is the bookings', and a booking is no visit
    assert sections == {"patient": "PT", "appointment": "RESV_MST"}, sections
    spec = load_spec(tmp_path / "c" / "c")
    fields = spec.entities["appointment"].fields
    assert (fields["start"].column, fields["note"].column, "minutes" in fields) == ("RESV_DTTM", "RESV_MEMO", False)
    # 노쇼 a no-show and 예약확정 booked: words read on bookings only
    assert fields["status"].map == {"내원": "arrived", "노쇼": "noshow", "예약": "booked", "예약확정": "booked",
                                    "취소": "cancelled"}


def test_a_dose_schedule_or_an_rsv_test_is_no_booking(tmp_path: Path) -> None:
    """SCHEDULE and RSV name bookings only where the table's name names no clinical record: a drug's or a vaccine's
    schedule of doses (MED_SCHEDULE, VACC_SCHEDULE: each dose due, with a patient link) is no appointment the patient
    booked, nor an RSV (virus) test; they are left for the contractor (carried raw), never Appointments 'booked' on
    each day a dose falls due. A schedule the doctors' or the patients' own name qualifies (DR_SCHEDULE with a
    patient link) is still the bookings'."""
    db = tmp_path / "c.db"
    conn = sqlite3.connect(db)
    conn.executescript("""
        CREATE TABLE PT (PT_NO TEXT PRIMARY KEY, PT_NM TEXT, SEX TEXT, BIRTH_YMD TEXT);
        CREATE TABLE VISIT (VISIT_NO INTEGER PRIMARY KEY, PT_NO TEXT, VISIT_YMD TEXT, DEPT TEXT);
        CREATE TABLE MED_SCHEDULE (SEQ INTEGER PRIMARY KEY, PT_NO TEXT, DRUG_CD TEXT, SCHED_YMD TEXT, DOSE TEXT);
        CREATE TABLE VACC_SCHEDULE (SEQ INTEGER PRIMARY KEY, PT_NO TEXT, VACC_CD TEXT, SCHED_YMD TEXT, DOSE_NO INT);
        CREATE TABLE RSV_TEST (SEQ INTEGER PRIMARY KEY, PT_NO TEXT, RSV_YMD TEXT, RESULT TEXT);
    """)
    patients = [f"{i:06d}" for i in range(1, 41)]
    conn.executemany("INSERT INTO PT VALUES (?, ?, ?, ?)",
                     [(p, f"환자{i}", "MF"[i % 2], f"19{50 + i:02d}0101") for i, p in enumerate(patients)])
    conn.executemany("INSERT INTO VISIT VALUES (?, ?, ?, ?)",
                     [(i, patients[i % 40], f"202403{i % 28 + 1:02d}", "소아과") for i in range(1, 61)])
    for table, what in (("MED_SCHEDULE", "A01"), ("VACC_SCHEDULE", "DTaP")):
        conn.executemany(f"INSERT INTO {table} VALUES (?, ?, ?, ?, ?)",
                         [(i, patients[i % 40], what, f"202404{i % 28 + 1:02d}", "1") for i in range(1, 31)])
    conn.executemany("INSERT INTO RSV_TEST VALUES (?, ?, ?, ?)",
                     [(i, patients[i % 40], f"202403{i % 28 + 1:02d}", ("양성", "음성")[i % 2]) for i in range(1, 31)])
    conn.commit()

    def sections() -> dict[str, str]:
        out = tmp_path / f"c{len(list(tmp_path.glob('c*')))}"
        text = write_scaffold("c", out, SourceAddress(database=db)).connector_toml.read_text(encoding="utf-8")
        return dict(re.findall(r'\[entities\.(\w+)\]\n# GUESS \([^)]*\)\ntable = "(\w+)"', text))

    found = sections()
    assert "appointment" not in found and not {"MED_SCHEDULE", "VACC_SCHEDULE"} & set(found.values()), found
    conn.executescript("""
        CREATE TABLE DR_SCHEDULE (SEQ INTEGER PRIMARY KEY, DR_ID TEXT, PT_NO TEXT, SCHED_YMD TEXT, ROOM TEXT);
    """)
    conn.executemany("INSERT INTO DR_SCHEDULE VALUES (?, 'D1', ?, ?, '1진료실')",
                     [(i, patients[i % 40], f"202404{i % 28 + 1:02d}") for i in range(1, 31)])
    conn.commit()
    conn.close()
    assert sections()["appointment"] == "DR_SCHEDULE"


@pytest.mark.parametrize(("table", "day"), [
    ("예약금", "입금일자"),  # deposits paid for bookings: payments
    ("예약문자발송", "발송일자"),  # the text messages reminding of bookings
    ("APPT_SMS_LOG", "SEND_YMD"), ("RESV_REMINDER", "SEND_YMD"), ("BOOKING_DEPOSIT", "PAY_YMD"),
])
def test_a_bookings_deposit_or_reminder_is_no_booking(tmp_path: Path, table: str, day: str) -> None:
    """A table named for bookings that keeps something else about them — the deposit paid (예약금), the reminders
    sent (예약문자발송, APPT_SMS_LOG) — is no booking: each row was an Appointment 'booked' on the day the money came
    or the message went. Left for the contractor (carried raw)."""
    db = tmp_path / "c.db"
    conn = sqlite3.connect(db)
    conn.executescript(f"""
        CREATE TABLE PT (PT_NO TEXT PRIMARY KEY, PT_NM TEXT, SEX TEXT, BIRTH_YMD TEXT);
        CREATE TABLE VISIT (VISIT_NO INTEGER PRIMARY KEY, PT_NO TEXT, VISIT_YMD TEXT, DEPT TEXT);
        CREATE TABLE "{table}" (SEQ INTEGER PRIMARY KEY, PT_NO TEXT, "{day}" TEXT, AMT_OR_TEXT TEXT);
    """)
    conn.executemany("INSERT INTO PT VALUES (?, ?, ?, ?)",
                     [(f"{i:06d}", f"환자{i}", "MF"[i % 2], f"19{50 + i:02d}0101") for i in range(1, 41)])
    conn.executemany("INSERT INTO VISIT VALUES (?, ?, ?, ?)",
                     [(i, f"{i % 40 + 1:06d}", f"202403{i % 28 + 1:02d}", "내과") for i in range(1, 61)])
    conn.executemany(f'INSERT INTO "{table}" VALUES (?, ?, ?, ?)',
                     [(i, f"{i % 40 + 1:06d}", f"202404{i % 28 + 1:02d}", "10000") for i in range(1, 31)])
    conn.commit()
    conn.close()
    text = write_scaffold("c", tmp_path / "c", SourceAddress(database=db)).connector_toml.read_text(encoding="utf-8")
    assert re.search(r"^\[entities\.appointment\]", text, re.MULTILINE) is None, text


def _assert_bookings(bag: Path, bookings: list[tuple[Any, ...]], statuses: dict[str, str],
                     read: dict[int, tuple[str, str | None, str | None]]) -> None:
    """Every booking but the orphan an Appointment: its status, start and end, its patient and doctor. ``read``: key
    → (start, end, minutes) as written."""
    appointments = _by_key(bag, "Appointment")
    assert set(appointments) == {str(b[0]) for b in bookings if b[0] != ORPHAN}
    patients = {k: r["id"] for k, r in _by_key(bag, "Patient").items()}
    doctors = {k: r["id"] for k, r in _by_key(bag, "Practitioner").items()}
    expected_status: Counter[str] = Counter()
    for row in bookings:
        key = row[0]
        if key == ORPHAN:
            continue
        resource, (start, end, minutes) = appointments[str(key)], read[key]
        expected_status[statuses[row[6 if len(row) == 10 else 9]]] += 1
        _assert_r4_start_and_end(resource)
        if end is None:  # a time with neither an end nor a length: the requested period's start
            assert resource["requestedPeriod"] == [{"start": start}], key
            day = f"{start[:10]}T00:00:00+09:00"
            following = f"{dt.date.fromisoformat(start[:10]) + dt.timedelta(days=1)}T00:00:00+09:00"
            placed = None if resource["status"] in _UNPLACED else (day, following)
            assert (resource.get("start"), resource.get("end")) == (placed or (None, None)), key
            assert "minutesDuration" not in resource, key
        else:
            assert (resource["start"], resource["end"], resource.get("minutesDuration")) == (start, end, minutes), key
            assert "requestedPeriod" not in resource, key
        assert resource["participant"] == [
            {"actor": {"reference": f"Patient/{patients[str(row[1])]}"}, "status": "accepted"},
            {"actor": {"reference": f"Practitioner/{doctors[str(row[4 if len(row) == 10 else 2])]}"},
             "status": "accepted"}], key
    assert Counter(r["status"] for r in appointments.values()) == expected_status
    # a booking is no visit: the visits alone are Encounters
    encounters = _lines(bag, "Encounter")
    assert len(encounters) == VISITS and all("visit" in e["identifier"][0]["system"].lower() for e in encounters)


def test_a_korean_booking_table_on_sqlite_is_appointments_through_the_whole_flow(tmp_path: Path) -> None:
    db = tmp_path / "clinic.db"
    rows = build_korean_sqlite(db)
    flow = scaffolded(type("Db", (), {"path": db})(), tmp_path)
    spec = load_spec(flow.connectors / "foreign")
    # the booking table is the bookings', the visit table the visits' (never the other way round)
    assert {name: entity.table for name, entity in spec.entities.items()} == {
        "practitioner": "DOCTOR", "patient": "PATIENT", "encounter": "VISIT", "appointment": "예약"}
    fields = spec.entities["appointment"].fields
    # the day and the time of day read together; the doctor, department, reason, memo, when it was booked
    assert fields["start"].columns == ("예약일자", "예약시간")
    assert {n: f.column for n, f in fields.items() if f.column} == {
        "patient_id": "환자번호", "practitioner_id": "DR_ID", "department": "진료과", "reason": "예약사유",
        "note": "메모", "created": "등록일시", "status": "예약상태"}
    assert fields["status"].map == {"내원": "arrived", "부도": "noshow", "예약": "booked", "완료": "fulfilled",
                                    "취소": "cancelled"}
    check = checked(flow)
    outcome = {e["entity"]: (e["exported"], e["quarantined"], e["field_defects"])
               for e in check["reconciliation"]["entities"]}
    unread = sum(1 for b in rows["예약"] if b[6] == "보류" and b[0] != ORPHAN)
    assert outcome == {"practitioner": (DOCTORS, 0, {}), "patient": (PATIENTS, 0, {}), "encounter": (VISITS, 0, {}),
                       "appointment": (BOOKINGS - 1, 1, {"status-unread": unread})}, outcome
    assert unread == 37
    _dry, _sealed, bag = exported(flow, tmp_path)
    read: dict[int, tuple[str, str | None, str | None]] = {}
    for key, _pt, ymd, hhmm, *_ in rows["예약"]:
        day = dt.datetime.strptime(ymd, "%Y%m%d")
        if key in DAY_ONLY:  # its day only: the whole day
            read[key] = (f"{day:%Y-%m-%d}T00:00:00+09:00", f"{day + dt.timedelta(days=1):%Y-%m-%d}T00:00:00+09:00",
                         None)
        else:
            read[key] = (f"{day:%Y-%m-%d}T{hhmm[:2]}:{hhmm[2:]}:00+09:00", None, None)
    _assert_bookings(bag, rows["예약"], KO_STATUS, read)
    assert Counter(r["status"] for r in _lines(bag, "Appointment")) == {
        "booked": 112, "arrived": 38, "fulfilled": 76, "cancelled": 36, "noshow": 37}
    rebuilt = check_bag_against_source(bag, load_spec(flow.connectors / "foreign"), SqliteFileSource(db))
    assert sum(rebuilt.rows.values()) == PATIENTS + DOCTORS + VISITS + BOOKINGS


@pytest.mark.db
def test_an_english_appointment_table_on_postgresql_is_appointments_through_the_whole_flow(
        tmp_path: Path, postgres_conn_str: str) -> None:
    target, rows = build_english_postgres(postgres_conn_str)
    flow = scaffolded(type("Db", (), {"path": None, "odbc": target})(), tmp_path)
    spec = load_spec(flow.connectors / "foreign")
    assert {name: entity.table for name, entity in spec.entities.items()} == {
        "practitioner": "doctor", "patient": "patient", "encounter": "visit", "appointment": "appointment"}
    fields = spec.entities["appointment"].fields
    assert {n: f.column for n, f in fields.items() if f.column} == {
        "patient_id": "patient_id", "practitioner_id": "doctor_id", "start": "appt_datetime",
        "minutes": "duration_min", "department": "dept", "service_type": "appt_type", "reason": "reason",
        "note": "note", "created": "created_at", "status": "status"}
    check = checked(flow)
    outcome = {e["entity"]: (e["exported"], e["quarantined"], e["field_defects"])
               for e in check["reconciliation"]["entities"]}
    unread = sum(1 for b in rows["appointment"] if b[9] == "rescheduled" and b[0] != ORPHAN)
    assert outcome == {"practitioner": (DOCTORS, 0, {}), "patient": (PATIENTS, 0, {}), "encounter": (VISITS, 0, {}),
                       "appointment": (BOOKINGS - 1, 1, {"status-unread": unread})}, outcome
    _dry, _sealed, bag = exported(flow, tmp_path)
    read = {key: (f"{at:%Y-%m-%dT%H:%M:%S}+09:00", f"{at + dt.timedelta(minutes=minutes):%Y-%m-%dT%H:%M:%S}+09:00",
                  minutes) for key, _pt, _dr, at, minutes, *_ in rows["appointment"]}
    _assert_bookings(bag, rows["appointment"], EN_STATUS, read)
    appointments = _by_key(bag, "Appointment")
    for key, _pt, _dr, _at, _min, dept, kind, reason, note, _status, created in rows["appointment"]:
        if key == ORPHAN:
            continue
        resource = appointments[str(key)]
        assert (resource["specialty"], resource["serviceType"], resource.get("description"), resource.get("comment"),
                resource["created"]) == ([{"text": dept}], [{"text": kind}], reason, note or None,
                                         f"{created:%Y-%m-%dT%H:%M:%S}+09:00"), key
    assert Counter(r["status"] for r in appointments.values()) == {
        "booked": 74, "arrived": 38, "fulfilled": 76, "cancelled": 38, "noshow": 73}
    source = OdbcSource(target)
    try:
        rebuilt = check_bag_against_source(bag, load_spec(flow.connectors / "foreign"), source)
    finally:
        source.close()
    assert sum(rebuilt.rows.values()) == PATIENTS + DOCTORS + VISITS + BOOKINGS
