"""Synthetic clinic databases in the styles of Korean EMRs nobody has a connector for (test data only).

Style "hwanja": romanised upper-case names (HWANJA, JUBSU, JINDAN, CHEOBANG, SUNAP, MEMO, EUISA), a patient
table keyed by a sequence, visits pointing at patients by chart number, composite keys (visit + line),
dates as ``YYYY-MM-DD HH:MM:SS`` text, ``YYYYMMDDHHMMSS`` text, ``YYYY.MM.DD`` text, two-digit-year birth
dates and Unix epoch seconds and milliseconds, the RRN split over JUMIN1/JUMIN2, amounts like
``12,000원``, Y/N and 1/0 flags, codes looked up in a code table (CODE_MST), CP949 bytes in the patient
table and UTF-8 text elsewhere, a settings table and a one-row clinic table, and planted dirty rows.

Every value is generated; names, RRNs and phone numbers are not real. ``expected`` says, per table,
which rows are dirty and why, so a test can compare the reconciliation exactly.
"""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

KST = dt.timezone(dt.timedelta(hours=9))
SURNAMES = ["김", "이", "박", "최", "정", "강", "조", "윤", "장", "임"]
GIVEN = ["민준", "서연", "도윤", "지우", "하준", "서윤", "시우", "하은", "주원", "지민"]
KCD = [("J00", "급성 비인두염"), ("J20.9", "상세불명의 급성 기관지염"), ("K29.7", "상세불명의 위염"),
       ("I10", "본태성 고혈압"), ("E11.9", "합병증을 동반하지 않은 2형 당뇨병"), ("M54.5", "요통")]
DRUGS = [("M0000001", "643304250", "타이레놀정500mg"), ("M0000002", "641902820", "아모크라정"),
         ("M0000003", "670600180", "무코스타정")]


@dataclass
class StyleClinic:
    path: Path
    rows: dict[str, int] = field(default_factory=dict)
    #: table → {source key text: reason code} of the rows a finished connector must quarantine
    dirty: dict[str, dict[str, str]] = field(default_factory=dict)
    #: a few exact values for assertions (no PHI: keys, dates, amounts)
    facts: dict[str, object] = field(default_factory=dict)


def _epoch(moment: dt.datetime) -> int:
    return int(moment.timestamp())


def create_hwanja_clinic(path: Path, *, patients: int = 30, seed: int = 15) -> StyleClinic:
    rnd = random.Random(seed)
    path.unlink(missing_ok=True)
    clinic = StyleClinic(path)
    conn = sqlite3.connect(path)
    c = conn.cursor()
    c.executescript("""
        CREATE TABLE HOSP_INFO (YKIHO TEXT, HOSP_NM TEXT, HOSP_ADDR TEXT, HOSP_TEL TEXT, DAEPYO_NM TEXT);
        CREATE TABLE SETTING (SET_KEY TEXT PRIMARY KEY, SET_VAL TEXT);
        CREATE TABLE CODE_MST (GRP_CD TEXT, CD TEXT, CD_NM TEXT, PRIMARY KEY (GRP_CD, CD));
        CREATE TABLE EUISA (EUISA_ID TEXT PRIMARY KEY, EUISA_NM TEXT, MYUNHEO_NO TEXT, GWA_CD TEXT);
        CREATE TABLE HWANJA (HWANJA_SEQ INTEGER PRIMARY KEY, CHART_NO TEXT, HWANJA_NM BLOB, JUMIN1 TEXT,
                             JUMIN2 TEXT, SEX_CD TEXT, BIRTH_YMD TEXT, ADDR TEXT, HP_NO TEXT, REG_TS INTEGER);
        CREATE TABLE JUBSU (JUBSU_NO INTEGER PRIMARY KEY, CHART_NO TEXT, JUBSU_DTTM TEXT, EUISA_ID TEXT,
                            IO_GB TEXT, BOHUM_CD TEXT, YAGAN_YN TEXT, CC TEXT);
        CREATE TABLE JINDAN (JUBSU_NO INTEGER, SEQ INTEGER, KCD_CD TEXT, SANGBYEONG_NM TEXT, JU_YN TEXT,
                             BALBYEONG_YMD TEXT, PRIMARY KEY (JUBSU_NO, SEQ));
        CREATE TABLE CHEOBANG (JUBSU_NO INTEGER, SEQ INTEGER, CHART_NO TEXT, CHEOBANG_DT TEXT, YAK_CD TEXT,
                               EDI_CD TEXT, YAK_NM TEXT, TUYAK_QTY TEXT, TUYAK_CNT INTEGER, ILSU INTEGER,
                               WONOE_YN TEXT, PRIMARY KEY (JUBSU_NO, SEQ));
        CREATE TABLE SUNAP (SUNAP_NO INTEGER PRIMARY KEY, JUBSU_NO INTEGER, SUNAP_MS INTEGER, CHONG_AMT TEXT,
                            BONIN_AMT INTEGER, GONGDAN_AMT INTEGER, BIGUP_AMT INTEGER);
        CREATE TABLE MEMO (MEMO_NO INTEGER PRIMARY KEY, CHART_NO TEXT, WRITE_TS INTEGER, MEMO_TXT TEXT);
    """)
    c.execute("INSERT INTO HOSP_INFO VALUES ('31234567', '한빛내과의원(가상)', '부산광역시 가상구 예시로 1', "
              "'051-000-0000', '박가상')")
    c.executemany("INSERT INTO SETTING VALUES (?, ?)", [("PRINTER", "LPT1"), ("UI_THEME", "BLUE"), ("VER", "7.2")])
    codes = [("BOHUM", "1", "건강보험"), ("BOHUM", "2", "의료급여"), ("BOHUM", "3", "자보"), ("BOHUM", "9", "일반"),
             ("GWA", "01", "내과"), ("GWA", "23", "가정의학과"), ("SEX", "1", "male"), ("SEX", "2", "female")]
    c.executemany("INSERT INTO CODE_MST VALUES (?, ?, ?)", codes)
    c.executemany("INSERT INTO EUISA VALUES (?, ?, ?, ?)",
                  [("D01", "박가상", "12345", "01"), ("D02", "최예시", "23456", "23")])
    dirty: dict[str, dict[str, str]] = {t: {} for t in ("HWANJA", "JUBSU", "JINDAN", "CHEOBANG", "SUNAP", "MEMO")}
    charts: list[str] = []
    for seq in range(1, patients + 1):
        chart = f"{1000 + seq * 7:06d}"
        charts.append(chart)
        birth = dt.date(1940, 1, 1) + dt.timedelta(days=rnd.randrange(0, 365 * 80))
        sex = rnd.choice("12")
        century_digit = {("1", 1900): "1", ("2", 1900): "2", ("1", 2000): "3", ("2", 2000): "4"}[
            (sex, 1900 if birth.year < 2000 else 2000)]
        jumin1, jumin2 = birth.strftime("%y%m%d"), century_digit + f"{rnd.randrange(0, 10**6):06d}"
        name = (rnd.choice(SURNAMES) + rnd.choice(GIVEN)).encode("cp949")
        reg = dt.datetime(2015, 1, 1, 9, tzinfo=KST) + dt.timedelta(days=rnd.randrange(0, 3000))
        row = [seq, chart, name, jumin1, jumin2, sex, birth.strftime("%y%m%d"), "부산광역시 가상구",
               f"010-0000-{seq:04d}", _epoch(reg)]
        if seq == 5:
            row[4] = None  # half an RRN: quarantined, never half-exported
            dirty["HWANJA"][str(seq)] = "incomplete-value"
        c.execute("INSERT INTO HWANJA VALUES (?,?,?,?,?,?,?,?,?,?)", row)
    # a second row with the chart number of patient 3: a duplicate (the lowest sequence is kept)
    c.execute("INSERT INTO HWANJA VALUES (?,?,?,?,?,?,?,?,?,?)",
              [patients + 1, charts[2], "중복환자".encode("cp949"), "900101", "1234567", "1", "900101", None, None,
               _epoch(dt.datetime(2020, 1, 1, tzinfo=KST))])
    dirty["HWANJA"][str(patients + 1)] = "duplicate"
    visit_no = 1000
    sunap_no = 0
    for index, chart in enumerate(charts):
        for _ in range(rnd.randrange(1, 4)):
            visit_no += 1
            when = dt.datetime(2019, 1, 2, 9, 0) + dt.timedelta(days=rnd.randrange(0, 2000), minutes=rnd.randrange(0, 480))
            bohum = rnd.choice("1239")
            jubsu = [visit_no, chart, when.strftime("%Y-%m-%d %H:%M:%S"), rnd.choice(["D01", "D02"]),
                     "O", bohum, rnd.choice("YN"), rnd.choice(["기침", "두통", "복통", "요통", None])]
            if index == 0 and visit_no == 1001:
                jubsu[4] = "I"
            if index == 3 and visit_no % 2 == 0 and not dirty["JUBSU"]:
                jubsu[5] = "7"  # a 보험 code the code table does not hold
                dirty["JUBSU"][str(visit_no)] = "unmapped-code"
            if chart == charts[4]:
                # patient 5 is quarantined (half an RRN): its visits are orphans, as its diagnoses are
                dirty["JUBSU"][str(visit_no)] = "orphan"
            c.execute("INSERT INTO JUBSU VALUES (?,?,?,?,?,?,?,?)", jubsu)
            parent_orphan = chart == charts[4] or dirty["JUBSU"].get(str(visit_no)) is not None
            for seq in range(1, rnd.randrange(2, 4)):
                code, text = rnd.choice(KCD)
                onset = (when - dt.timedelta(days=rnd.randrange(0, 30))).strftime("%Y.%m.%d")
                c.execute("INSERT INTO JINDAN VALUES (?,?,?,?,?,?)",
                          [visit_no, seq, code, text, "1" if seq == 1 else "0", onset])
                if parent_orphan:
                    dirty["JINDAN"][f"{visit_no}|{seq}"] = "orphan"
            for seq in range(1, rnd.randrange(1, 3) + 1):
                local, edi, name = rnd.choice(DRUGS)
                c.execute("INSERT INTO CHEOBANG VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                          [visit_no, seq, chart, when.strftime("%Y%m%d%H%M%S"), local, edi, name, "1",
                           3, rnd.randrange(1, 8), "Y"])
                if parent_orphan:
                    dirty["CHEOBANG"][f"{visit_no}|{seq}"] = "orphan"
            sunap_no += 1
            total = rnd.randrange(30, 200) * 100
            paid = when + dt.timedelta(minutes=20)
            c.execute("INSERT INTO SUNAP VALUES (?,?,?,?,?,?,?)",
                      [sunap_no, visit_no, _epoch(paid.replace(tzinfo=KST)) * 1000, f"{total:,}원",
                       total * 3 // 10, total - total * 3 // 10, 0])
            if parent_orphan:
                dirty["SUNAP"][str(sunap_no)] = "orphan"
        memo_no = index + 1
        c.execute("INSERT INTO MEMO VALUES (?,?,?,?)",
                  [memo_no, chart, _epoch(dt.datetime(2021, 3, 1, 10, tzinfo=KST)) + memo_no * 3600,
                   "다음 내원 시 혈압 재측정"])
        if chart == charts[4]:
            dirty["MEMO"][str(memo_no)] = "orphan"
    # dirty rows: a visit of a chart number nobody has; a visit with an impossible date; a payment made at
    # 07:30 KST (22:30 UTC the day before); an amount that is not a number; a diagnosis of a missing visit
    visit_no += 1
    c.execute("INSERT INTO JUBSU VALUES (?,?,?,?,?,?,?,?)",
              [visit_no, "999999", "2022-05-05 10:00:00", "D01", "O", "1", "N", "발열"])
    dirty["JUBSU"][str(visit_no)] = "orphan"
    c.execute("INSERT INTO JINDAN VALUES (?,?,?,?,?,?)", [visit_no, 1, "R50.9", "발열", "1", "2022.05.05"])
    dirty["JINDAN"][f"{visit_no}|1"] = "orphan"
    visit_no += 1
    c.execute("INSERT INTO JUBSU VALUES (?,?,?,?,?,?,?,?)",
              [visit_no, charts[1], "2022-02-30 10:00:00", "D02", "O", "1", "N", None])
    dirty["JUBSU"][str(visit_no)] = "invalid-date"
    early_visit = 1001 if charts[0] != charts[4] else 1002
    sunap_no += 1
    c.execute("INSERT INTO SUNAP VALUES (?,?,?,?,?,?,?)",
              [sunap_no, early_visit, _epoch(dt.datetime(2023, 3, 2, 7, 30, tzinfo=KST)) * 1000, "4,500원",
               1500, 3000, 0])
    clinic.facts["early_payment"] = (str(sunap_no), "2023-03-02")
    sunap_no += 1
    c.execute("INSERT INTO SUNAP VALUES (?,?,?,?,?,?,?)", [sunap_no, early_visit, 0, "만원", 0, 0, 0])
    # An optional amount that is no number: since field-level quarantine the receipt is kept without its
    # total (the raw text is carried in data/raw/columns with the reason), so it is not a dirty row.
    clinic.facts["bad_total"] = str(sunap_no)
    c.execute("INSERT INTO JINDAN VALUES (?,?,?,?,?,?)", [4242, 1, "J00", "급성 비인두염", "1", "2022.01.01"])
    dirty["JINDAN"]["4242|1"] = "orphan"
    conn.commit()
    for (table,) in c.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").fetchall():
        clinic.rows[table] = c.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    conn.close()
    clinic.dirty = dirty
    return clinic


#: The finished connector for the "hwanja" style: every construct of the connector language in use.
HWANJA_CONNECTOR = r'''
[connector]
name = "hwanja"
version = "1.0.0"
product = "Hwanja-style EMR (synthetic test schema)"
engines = ["sqlite", "mariadb", "postgresql"]

[detect]
tables = ["HWANJA", "JUBSU", "JINDAN"]

[source]
encoding = "cp949"
date_formats = ["%Y%m%d", "%Y.%m.%d"]
datetime_formats = ["%Y-%m-%d %H:%M:%S", "%Y%m%d%H%M%S"]
timezone = "Asia/Seoul"
two_digit_year_pivot = 26

[institution]
query = "SELECT YKIHO AS code, HOSP_NM AS name, HOSP_ADDR AS address, HOSP_TEL AS phone, DAEPYO_NM AS founder FROM HOSP_INFO"

[skip]
CODE_MST = "code table: read through the look-ups of JUBSU.BOHUM_CD and EUISA.GWA_CD"
SETTING = "program settings (printer, theme); no patient data"
HOSP_INFO = "the clinic's own row: read by [institution]"

[entities.practitioner]
table = "EUISA"
key = "EUISA_ID"

[entities.practitioner.fields]
name = { column = "EUISA_NM", required = true }
licence_number = "MYUNHEO_NO"
licence_kind = { value = "의사" }
department = { column = "GWA_CD", lookup = { table = "CODE_MST", key = "CD", value = "CD_NM", where = "GRP_CD = 'GWA'" } }

[entities.patient]
table = "HWANJA"
key = "HWANJA_SEQ"
unique = ["chart_number"]

[entities.patient.fields]
chart_number = { column = "CHART_NO", required = true }
name = { column = "HWANJA_NM", required = true }
rrn = { columns = ["JUMIN1", "JUMIN2"], type = "rrn" }
sex = { column = "SEX_CD", type = "code", map = { "1" = "male", "2" = "female" }, default = "unknown" }
birth_date = { column = "BIRTH_YMD", type = "date", format = "%y%m%d" }
address = "ADDR"
phone = "HP_NO"
first_visit = { column = "REG_TS", type = "date", format = "epoch" }

[entities.encounter]
table = "JUBSU"
key = "JUBSU_NO"

[entities.encounter.fields]
patient_id = { column = "CHART_NO", type = "ref", ref = "patient.chart_number", required = true }
practitioner_id = { column = "EUISA_ID", type = "ref", ref = "practitioner" }
start = { column = "JUBSU_DTTM", type = "datetime", required = true }
kind = { column = "IO_GB", type = "code", map = { O = "outpatient", I = "inpatient" } }
payer_type = { column = "BOHUM_CD", lookup = { table = "CODE_MST", key = "CD", value = "CD_NM", where = "GRP_CD = 'BOHUM'" } }
night_or_holiday = { column = "YAGAN_YN", type = "bool" }

# The chief complaint lives in the visit table: a second section over JUBSU (it reads the rows again).
[entities.visit_complaint]
entity = "chart_note"
table = "JUBSU"
key = "JUBSU_NO"

[entities.visit_complaint.fields]
patient_id = { column = "CHART_NO", type = "ref", ref = "patient.chart_number", required = true }
encounter_id = { column = "JUBSU_NO", type = "ref", ref = "encounter" }
recorded = { column = "JUBSU_DTTM", type = "datetime", required = true }
chief_complaint = "CC"

[entities.memo]
entity = "chart_note"
table = "MEMO"
key = "MEMO_NO"

[entities.memo.fields]
patient_id = { column = "CHART_NO", type = "ref", ref = "patient.chart_number", required = true }
recorded = { column = "WRITE_TS", type = "datetime", format = "epoch", required = true }
text = "MEMO_TXT"

[entities.diagnosis]
table = "JINDAN"
key = ["JUBSU_NO", "SEQ"]
query = "SELECT D.*, V.CHART_NO AS PT_CHART, V.JUBSU_DTTM AS SVC_DTTM FROM JINDAN D LEFT JOIN JUBSU V ON V.JUBSU_NO = D.JUBSU_NO"

[entities.diagnosis.fields]
encounter_id = { column = "JUBSU_NO", type = "ref", ref = "encounter", required = true }
patient_id = { column = "PT_CHART", type = "ref", ref = "patient.chart_number", required = true }
code = { column = "KCD_CD", required = true }
kcd_edition = { column = "SVC_DTTM", type = "kcd_edition" }
text = "SANGBYEONG_NM"
primary = { column = "JU_YN", type = "bool" }
onset = { column = "BALBYEONG_YMD", type = "date" }

[entities.order_line]
table = "CHEOBANG"
key = ["JUBSU_NO", "SEQ"]

[entities.order_line.fields]
patient_id = { column = "CHART_NO", type = "ref", ref = "patient.chart_number", required = true }
encounter_id = { column = "JUBSU_NO", type = "ref", ref = "encounter" }
ordered = { column = "CHEOBANG_DT", type = "datetime", required = true }
local_code = "YAK_CD"
edi_code = "EDI_CD"
code_type = { value = "drug" }
name = "YAK_NM"
dose = { column = "TUYAK_QTY", type = "decimal" }
frequency = { column = "TUYAK_CNT", type = "int" }
days = { column = "ILSU", type = "int" }
outside_prescription = { column = "WONOE_YN", type = "bool" }

[entities.receipt]
table = "SUNAP"
key = "SUNAP_NO"
query = "SELECT S.*, V.CHART_NO AS PT_CHART FROM SUNAP S LEFT JOIN JUBSU V ON V.JUBSU_NO = S.JUBSU_NO"

[entities.receipt.fields]
encounter_id = { column = "JUBSU_NO", type = "ref", ref = "encounter", required = true }
patient_id = { column = "PT_CHART", type = "ref", ref = "patient.chart_number", required = true }
issued = { column = "SUNAP_MS", type = "date", format = "epoch_ms", required = true }
# the receipt number the EMR prints: computed per engine
number = { expr = { sqlite = "'S-' || SUNAP_NO", postgresql = "'S-' || CAST(SUNAP_NO AS TEXT)", mariadb = "CONCAT('S-', SUNAP_NO)" } }
total = { column = "CHONG_AMT", type = "decimal" }
covered_patient = { column = "BONIN_AMT", type = "decimal" }
covered_insurer = { column = "GONGDAN_AMT", type = "decimal" }
non_covered = { column = "BIGUP_AMT", type = "decimal" }
'''


def create_recept_clinic(path: Path, *, patients: int = 25, seed: int = 16) -> StyleClinic:
    """Style "recept": English abbreviations (PATIENT, DOCTOR, RECEPT, DIAG, PRESC, PAY, SOAP), visits pointing
    at the patient's integer id, dates as ``YYYYMMDD`` text, SOAP notes stamped in epoch milliseconds with
    CP949 text, payments at ``YYYY-MM-DD HH:MM:SS``, amounts as ``12,000원`` text, T/F flags, a 13-digit RRN
    in one column, a composite key on prescriptions, a common-code table, a config table and an access log."""
    rnd = random.Random(seed)
    path.unlink(missing_ok=True)
    clinic = StyleClinic(path)
    conn = sqlite3.connect(path)
    c = conn.cursor()
    c.executescript("""
        CREATE TABLE HOSP_MST (HOSP_CD TEXT, HOSP_NM TEXT, ADDR TEXT, TEL TEXT);
        CREATE TABLE COMM_CD (GRP TEXT, CD TEXT, CD_NM TEXT, PRIMARY KEY (GRP, CD));
        CREATE TABLE SYS_CONFIG (CFG_ID INTEGER PRIMARY KEY, CFG_NM TEXT, CFG_VAL TEXT);
        CREATE TABLE ACCESS_LOG (LOG_ID INTEGER PRIMARY KEY, USER_ID TEXT, LOG_TS INTEGER, ACTION TEXT);
        CREATE TABLE DOCTOR (DOC_ID INTEGER PRIMARY KEY, DOC_NM TEXT, LIC_NO TEXT, DEPT_NM TEXT);
        CREATE TABLE PATIENT (PT_ID INTEGER PRIMARY KEY, PT_NO TEXT, PT_NM TEXT, RRN TEXT, SEX TEXT,
                              BIRTH_DT TEXT, ADDR TEXT, TEL_NO TEXT);
        CREATE TABLE RECEPT (RECEPT_NO INTEGER PRIMARY KEY, PT_ID INTEGER, DOC_ID INTEGER, VISIT_DT TEXT,
                             IO_CD TEXT, INS_CD TEXT, NIGHT_FG TEXT);
        CREATE TABLE DIAG (DIAG_SEQ INTEGER PRIMARY KEY, RECEPT_NO INTEGER, PT_ID INTEGER, DIAG_CD TEXT,
                           DIAG_NM TEXT, MAIN_FG TEXT, DIAG_DT TEXT);
        CREATE TABLE PRESC (RECEPT_NO INTEGER, LINE_NO INTEGER, PT_ID INTEGER, ORD_DT TEXT, DRUG_CD TEXT,
                            EDI_CD TEXT, DRUG_NM TEXT, DOSE TEXT, FREQ INTEGER, DAYS INTEGER,
                            PRIMARY KEY (RECEPT_NO, LINE_NO));
        CREATE TABLE PAY (PAY_NO INTEGER PRIMARY KEY, RECEPT_NO INTEGER, PT_ID INTEGER, PAY_DTTM TEXT,
                          TOT_AMT TEXT, SELF_AMT INTEGER, CORP_AMT INTEGER);
        CREATE TABLE SOAP (SOAP_ID INTEGER PRIMARY KEY, RECEPT_NO INTEGER, PT_ID INTEGER, DOC_ID INTEGER,
                           WRITE_MS INTEGER, S_TXT BLOB, O_TXT BLOB, A_TXT BLOB, P_TXT BLOB);
    """)
    c.execute("INSERT INTO HOSP_MST VALUES ('41234560', '바른소아과의원(가상)', '대전광역시 가상구', '042-000-0000')")
    c.executemany("INSERT INTO COMM_CD VALUES (?,?,?)", [("INS", "NHI", "건강보험"), ("INS", "MED", "의료급여"),
                                                       ("INS", "GEN", "일반")])
    c.executemany("INSERT INTO SYS_CONFIG VALUES (?,?,?)", [(1, "PRINTER", "LPT1"), (2, "AUTO_BACKUP", "T")])
    c.executemany("INSERT INTO DOCTOR VALUES (?,?,?,?)", [(1, "정가상", "34567", "소아청소년과"), (2, "한예시", "45678", "소아청소년과")])
    dirty: dict[str, dict[str, str]] = {t: {} for t in ("PATIENT", "RECEPT", "DIAG", "PRESC", "PAY", "SOAP")}
    recept = 500
    diag_seq = pay_no = soap_id = log_id = 0
    for pt_id in range(1, patients + 1):
        birth = dt.date(2008, 1, 1) + dt.timedelta(days=rnd.randrange(0, 365 * 17))
        sex = rnd.choice("MF")
        rrn = birth.strftime("%y%m%d") + ("3" if sex == "M" else "4") + f"{rnd.randrange(0, 10**6):06d}"
        row = [pt_id, f"P{pt_id:05d}", rnd.choice(SURNAMES) + rnd.choice(GIVEN), rrn, sex, birth.strftime("%Y%m%d"),
               "대전광역시 가상구", f"010-1111-{pt_id:04d}"]
        if pt_id == 7:
            # An impossible birth date in an optional field: since field-level quarantine the patient is kept
            # without it (raw value carried with the reason), and with it the whole chart: not dirty rows.
            row[5] = "20230230"
            clinic.facts["bad_birth_patient"] = str(pt_id)
        c.execute("INSERT INTO PATIENT VALUES (?,?,?,?,?,?,?,?)", row)
        for _ in range(rnd.randrange(1, 4)):
            recept += 1
            day = dt.date(2020, 3, 2) + dt.timedelta(days=rnd.randrange(0, 1500))
            c.execute("INSERT INTO RECEPT VALUES (?,?,?,?,?,?,?)",
                      [recept, pt_id, rnd.choice([1, 2]), day.strftime("%Y%m%d"), "O", rnd.choice(["NHI", "MED", "GEN"]),
                       rnd.choice("TF")])
            orphan_parent = False  # (patient 7 is kept: its visits are no orphans)
            if orphan_parent:
                dirty["RECEPT"][str(recept)] = "orphan"
            for _d in range(rnd.randrange(1, 3)):
                diag_seq += 1
                code, text = rnd.choice(KCD)
                c.execute("INSERT INTO DIAG VALUES (?,?,?,?,?,?,?)",
                          [diag_seq, recept, pt_id, code, text, "T" if _d == 0 else "F", day.strftime("%Y%m%d")])
                if orphan_parent:
                    dirty["DIAG"][str(diag_seq)] = "orphan"
            for line in range(1, rnd.randrange(2, 4)):
                local, edi, name = rnd.choice(DRUGS)
                c.execute("INSERT INTO PRESC VALUES (?,?,?,?,?,?,?,?,?,?)",
                          [recept, line, pt_id, day.strftime("%Y%m%d"), local, edi, name, "1", 3, rnd.randrange(1, 6)])
                if orphan_parent:
                    dirty["PRESC"][f"{recept}|{line}"] = "orphan"
            pay_no += 1
            total = rnd.randrange(20, 90) * 100
            c.execute("INSERT INTO PAY VALUES (?,?,?,?,?,?,?)",
                      [pay_no, recept, pt_id, f"{day.isoformat()} 1{rnd.randrange(0, 8)}:{rnd.randrange(0, 60):02d}:00",
                       f"{total:,}원", total * 3 // 10, total - total * 3 // 10])
            if orphan_parent:
                dirty["PAY"][str(pay_no)] = "orphan"
            soap_id += 1
            written = dt.datetime.combine(day, dt.time(10, 5), KST)
            c.execute("INSERT INTO SOAP VALUES (?,?,?,?,?,?,?,?,?)",
                      [soap_id, recept, pt_id, 1, int(written.timestamp()) * 1000, "기침 3일".encode("cp949"),
                       "인두 발적".encode("cp949"), "급성 인두염".encode("cp949"), "3일 후 재진".encode("cp949")])
            if orphan_parent:
                dirty["SOAP"][str(soap_id)] = "orphan"
            log_id += 1
            c.execute("INSERT INTO ACCESS_LOG VALUES (?,?,?,?)", [log_id, "admin", int(written.timestamp()), "VIEW"])
    # dirty: a diagnosis of a reception that does not exist; a payment whose amount is not a number
    diag_seq += 1
    c.execute("INSERT INTO DIAG VALUES (?,?,?,?,?,?,?)", [diag_seq, 9999, 3, "J00", "급성 비인두염", "T", "20240101"])
    dirty["DIAG"][str(diag_seq)] = "orphan"
    pay_no += 1
    c.execute("INSERT INTO PAY VALUES (?,?,?,?,?,?,?)", [pay_no, 501, 1, "2024-01-01 09:00:00", "미수", 0, 0])
    clinic.facts["bad_pay_total"] = str(pay_no)  # an optional amount: a field defect, the payment kept
    conn.commit()
    for (table,) in c.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").fetchall():
        clinic.rows[table] = c.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    conn.close()
    clinic.dirty = dirty
    return clinic


#: The finished connector for the "recept" style.
RECEPT_CONNECTOR = r'''
[connector]
name = "recept"
version = "1.0.0"
product = "Recept-style EMR (synthetic test schema)"
engines = ["sqlite", "mariadb", "postgresql"]

[source]
encoding = "cp949"
date_formats = ["%Y%m%d"]
datetime_formats = ["%Y-%m-%d %H:%M:%S"]

[institution]
query = "SELECT HOSP_CD AS code, HOSP_NM AS name, ADDR AS address, TEL AS phone FROM HOSP_MST"

[skip]
COMM_CD = "code table: the INS codes are kept as recorded"
SYS_CONFIG = "program settings; no patient data"
ACCESS_LOG = "who opened which screen; no clinical records"
HOSP_MST = "the clinic's own row: read by [institution]"

[entities.practitioner]
table = "DOCTOR"
key = "DOC_ID"

[entities.practitioner.fields]
name = { column = "DOC_NM", required = true }
licence_number = "LIC_NO"
department = "DEPT_NM"

[entities.patient]
table = "PATIENT"
key = "PT_ID"
unique = ["chart_number"]

[entities.patient.fields]
chart_number = { column = "PT_NO", required = true }
name = { column = "PT_NM", required = true }
rrn = { column = "RRN", type = "rrn" }
sex = { column = "SEX", type = "code", map = { M = "male", F = "female" } }
birth_date = { column = "BIRTH_DT", type = "date" }
address = "ADDR"
phone = "TEL_NO"

[entities.encounter]
table = "RECEPT"
key = "RECEPT_NO"

[entities.encounter.fields]
patient_id = { column = "PT_ID", type = "ref", ref = "patient", required = true }
practitioner_id = { column = "DOC_ID", type = "ref", ref = "practitioner" }
start = { column = "VISIT_DT", type = "date", required = true }
kind = { column = "IO_CD", type = "code", map = { O = "outpatient", I = "inpatient" } }
payer_type = { column = "INS_CD", lookup = { table = "COMM_CD", key = "CD", value = "CD_NM", where = "GRP = 'INS'" } }
night_or_holiday = { column = "NIGHT_FG", type = "bool" }

[entities.diagnosis]
table = "DIAG"
key = "DIAG_SEQ"

[entities.diagnosis.fields]
encounter_id = { column = "RECEPT_NO", type = "ref", ref = "encounter", required = true }
patient_id = { column = "PT_ID", type = "ref", ref = "patient", required = true }
code = { column = "DIAG_CD", required = true }
kcd_edition = { column = "DIAG_DT", type = "kcd_edition" }
recorded = { column = "DIAG_DT", type = "date" }
text = "DIAG_NM"
primary = { column = "MAIN_FG", type = "bool" }

[entities.chart_note]
table = "SOAP"
key = "SOAP_ID"

[entities.chart_note.fields]
patient_id = { column = "PT_ID", type = "ref", ref = "patient", required = true }
encounter_id = { column = "RECEPT_NO", type = "ref", ref = "encounter" }
author_id = { column = "DOC_ID", type = "ref", ref = "practitioner" }
recorded = { column = "WRITE_MS", type = "datetime", format = "epoch_ms", required = true }
chief_complaint = "S_TXT"
history = "O_TXT"
course = "A_TXT"
plan = "P_TXT"

[entities.order_line]
table = "PRESC"
key = ["RECEPT_NO", "LINE_NO"]

[entities.order_line.fields]
patient_id = { column = "PT_ID", type = "ref", ref = "patient", required = true }
encounter_id = { column = "RECEPT_NO", type = "ref", ref = "encounter" }
ordered = { column = "ORD_DT", type = "date", required = true }
local_code = "DRUG_CD"
edi_code = "EDI_CD"
code_type = { value = "drug" }
name = "DRUG_NM"
dose = { column = "DOSE", type = "decimal" }
frequency = { column = "FREQ", type = "int" }
days = { column = "DAYS", type = "int" }

[entities.receipt]
table = "PAY"
key = "PAY_NO"

[entities.receipt.fields]
encounter_id = { column = "RECEPT_NO", type = "ref", ref = "encounter", required = true }
patient_id = { column = "PT_ID", type = "ref", ref = "patient", required = true }
issued = { column = "PAY_DTTM", type = "date", required = true }
total = { column = "TOT_AMT", type = "decimal" }
covered_patient = { column = "SELF_AMT", type = "decimal" }
covered_insurer = { column = "CORP_AMT", type = "decimal" }
'''


def copy_to_server(clinic: StyleClinic, conn_str: str, database: str) -> str:
    """Load the clinic into a fresh database of its own on a test server; the connection string to it."""
    import pyodbc

    from emr_exporter.demo.load import load_demo_into
    from emr_exporter.sources.drivers import parse_connection_string

    admin = pyodbc.connect(conn_str, autocommit=True)
    try:
        admin.execute(f"DROP DATABASE IF EXISTS {database}")
        if "maria" in conn_str.lower():
            admin.execute(f"CREATE DATABASE {database} CHARACTER SET utf8mb4")
        else:
            admin.execute(f"CREATE DATABASE {database} ENCODING 'UTF8' TEMPLATE template0")
    finally:
        admin.close()
    pairs = [(k, database if k.upper() == "DATABASE" else v) for k, v in parse_connection_string(conn_str)]
    target = ";".join(f"{k}={{{v}}}" if k.upper() == "DRIVER" else f"{k}={v}" for k, v in pairs)
    result = load_demo_into(clinic.path, target)
    assert result.rows == clinic.rows
    return target
