"""Korean translations for the wizard, applied to resources/i18n/emr_exporter_ko.ts.

The .ts file is the source of truth once filled (translators edit it with pyside6-linguist); this table is
how the first Korean text was written and fills any message still unfinished. Run
``python scripts/update_translations.py`` to re-scan the sources, fill from here and build the .qm.
"""

from __future__ import annotations

KO: dict[str, str] = {
    # wizard / start
    "EMR records export — 진료기록 이관": "진료기록 이관 — EMR 기록 내보내기",
    "Welcome": "시작",
    "This program copies every medical record of the clinic, seals it with the clinic's certificate and hands it "
    "to the national record storage system (진료기록보관시스템).":
        "이 프로그램은 의원의 모든 진료기록을 복사하여 기관 인증서로 서명·봉인한 뒤 "
        "휴·폐업 의료기관 진료기록보관시스템에 넘겨 드립니다.",
    "&Export this clinic's records": "이 의원의 진료기록 내보내기(&E)",
    "Try everything with the &demo clinic (made-up patients)": "데모 의원으로 전체 과정 연습하기 — 가상 환자(&D)",
    "&Continue the unfinished export": "끝나지 않은 이관 이어서 하기(&C)",
    "Unfinished export": "끝나지 않은 이관",
    "An export of {name} was not finished (it stopped at the {step} step). Nothing was lost: continue it, or start "
    "again.": "{name}의 이관이 끝나지 않았습니다({step} 단계에서 멈춤). 잃어버린 것은 없습니다. 이어서 하거나 "
    "처음부터 다시 시작하세요.",
    "You will need: the clinic's certificate (공동인증서 or .p12 file) and its password, and access to the EMR "
    "database on this PC.": "준비물: 기관 인증서(공동인증서 또는 .p12 파일)와 그 비밀번호, 그리고 이 PC에서 "
    "EMR 데이터베이스에 접근할 수 있어야 합니다.",
    # institution
    "Institution and certificate": "기관 정보와 인증서",
    "The clinic's 요양기관기호 and name, the closing date, and the certificate that signs the records.":
        "의원의 요양기관기호와 이름, 폐업(휴업) 일자, 그리고 기록에 서명할 인증서입니다.",
    "&File…": "파일(&F)…",
    "F&older…": "폴더(&O)…",
    "&Load certificate": "인증서 불러오기(&L)",
    "Certificate": "인증서",
    "Institution code check": "요양기관기호 확인",
    "요양기관기호 (&institution code):": "요양기관기호(&I):",
    "Clinic &name:": "기관 이름(&N):",
    "Closing &date:": "폐업(휴업) 일자(&D):",
    "Cer&tificate:": "인증서(&T):",
    "Certificate &password:": "인증서 비밀번호(&P):",
    "Choose a certificate file": "인증서 파일 선택",
    "Choose a 공동인증서 folder": "공동인증서 폴더 선택",
    "Preparing the demo clinic…": "데모 의원을 준비하는 중…",
    "Demo clinic ready. Its demo certificate's password is “demo”.":
        "데모 의원이 준비되었습니다. 데모 인증서 비밀번호는 “demo”입니다.",
    "The 요양기관기호 has 8 digits.": "요양기관기호는 숫자 8자리입니다.",
    "Choose the certificate file": "인증서 파일을 선택하세요",
    "Certificates (*.p12 *.pfx *.der);;All files (*)": "인증서 (*.p12 *.pfx *.der);;모든 파일 (*)",
    "Choose the 공동인증서 folder (with signCert.der)": "공동인증서 폴더를 선택하세요 (signCert.der가 있는 폴더)",
    "Choose the certificate file or folder first.": "먼저 인증서 파일이나 폴더를 선택하세요.",
    "Opening the certificate…": "인증서를 여는 중…",
    "Certificate holder: {holder}\nValid from {start} to {end}": "인증서 소유자: {holder}\n유효기간: {start} ~ {end}",
    "It expires in {days} days: finish the export before then.":
        "{days}일 뒤에 만료됩니다. 그 전에 이관을 마치세요.",
    # EMR
    "Which EMR": "EMR 선택",
    "Where the EMR keeps its database. Press Test connection: the program recognises the EMR by itself.":
        "EMR 데이터베이스가 있는 곳을 알려 주세요. [연결 확인]을 누르면 어떤 EMR인지 스스로 알아냅니다.",
    "A database file on this PC": "이 PC에 있는 데이터베이스 파일",
    "An ODBC data source set up on this PC (DSN)": "이 PC에 설정된 ODBC 데이터 원본 (DSN)",
    "A database server (ODBC connection string)": "데이터베이스 서버 (ODBC 연결 문자열)",
    "The EMR's database server (on this PC or the clinic's main PC)":
        "EMR 데이터베이스 서버 (이 PC 또는 병원의 메인 PC)",
    "empty: this PC; else the server PC's name or IP address":
        "이 PC이면 비워 두세요. 다른 PC이면 그 PC의 이름이나 IP 주소",
    "About the server": "서버 안내",
    "Type of &database:": "데이터베이스 종류(&D):",
    "Server add&ress:": "서버 주소(&R):",
    "Port &number:": "포트 번호(&N):",
    "Database na&me:": "데이터베이스 이름(&M):",
    "Account &ID:": "계정 이름(&I):",
    "If you do not know the database name, the account or its password, ask the EMR company. The port is the usual "
    "one for the type of database.":
        "데이터베이스 이름, 계정 이름, 비밀번호를 모르면 EMR 회사에 물어보세요. 포트 번호에는 그 종류의 데이터베이스가 "
        "보통 쓰는 번호가 들어가 있습니다.",
    "This PC has no program for reaching a database server (SQL Server, MariaDB/MySQL or PostgreSQL). Ask your IT "
    "contractor or the EMR company to install the one your EMR uses.":
        "이 PC에는 데이터베이스 서버(SQL Server, MariaDB/MySQL, PostgreSQL)에 연결하는 프로그램이 설치되어 있지 "
        "않습니다. 전산 담당자나 EMR 회사에 EMR이 쓰는 것을 설치해 달라고 하세요.",
    "Data &source:": "데이터 원본(&S):",
    "&Browse…": "찾아보기(&B)…",
    "&Test connection": "연결 확인(&T)",
    "Connection result": "연결 결과",
    "&Kind:": "종류(&K):",
    "Database &file:": "데이터베이스 파일(&F):",
    "&ODBC connection:": "ODBC 연결(&O):",
    "Database pass&word:": "데이터베이스 비밀번호(&W):",
    "&Attachments folder:": "첨부파일 폴더(&A):",
    "&EMR program:": "EMR 프로그램(&E):",
    "Choose the EMR database file": "EMR 데이터베이스 파일을 선택하세요",
    "Choose the database file or type the connection first.":
        "먼저 데이터베이스 파일을 고르거나 연결 정보를 입력하세요.",
    "Connecting…": "연결하는 중…",
    "{product} — {percent}% match, version {version}": "{product} — 일치도 {percent}%, 버전 {version}",
    "{product} — not recognised in this database": "{product} — 이 데이터베이스에서는 확인되지 않음",
    "EMR connection {name}": "EMR 연결 {name}",
    "the database {database} on the server {server}": "서버 {server}의 데이터베이스 {database}",
    "the EMR connection {name} set up on this PC": "이 PC에 등록된 EMR 연결 {name}",
    "the database file {name}": "데이터베이스 파일 {name}",
    "Connected to {label}. Recognised: {product} ({percent}% sure).":
        "{label}에 연결했습니다. 확인된 EMR: {product} (확신도 {percent}%).",
    "Connected to {label}, but no installed EMR connector recognises it. Choose one, or ask your IT contractor.":
        "{label}에 연결했지만 설치된 EMR 커넥터 중 맞는 것이 없습니다. 직접 고르거나 전산 담당자에게 문의하세요.",
    # scan
    "What will be exported": "내보낼 기록 살펴보기",
    "The program reads the whole database once, without changing it.":
        "데이터베이스 전체를 한 번 읽습니다. 아무것도 바꾸지 않습니다.",
    "Scan progress": "살펴보기 진행률",
    "Scan status": "살펴보기 상태",
    "Record type": "기록 종류",
    "Records": "건수",
    "Set aside": "별도 보관",
    "Why set aside": "별도 보관 이유",
    "Records per type": "종류별 기록 수",
    "Date range": "기간",
    "Sample patient": "환자 예시",
    "&Scan again": "다시 살펴보기(&S)",
    "Reading the database…": "데이터베이스를 읽는 중…",
    "Reading {what}: {done} of {total}": "{what} 읽는 중: {total}건 중 {done}건",
    "{rows} records found: {exported} to export, {kept} to keep exactly as they are, {aside} to set aside with "
    "their reason.":
        "기록 {rows}건을 찾았습니다: {exported}건은 내보내고, {kept}건은 원래 모습 그대로 보관하며, {aside}건은 이유와 "
        "함께 별도 보관합니다.",
    "Visits from {first} to {last}.": "진료 기간: {first} ~ {last}",
    "Sample patient: chart {chart}, {name}, born {born}, 주민등록번호 {rrn}":
        "환자 예시: 차트번호 {chart}, {name}, 생년월일 {born}, 주민등록번호 {rrn}",
    # export
    "Export and seal": "내보내기와 봉인",
    "The records are signed and encrypted into one file. You can stop at any time and continue later.":
        "기록을 서명·암호화하여 파일 하나로 만듭니다. 언제든 멈추고 나중에 이어서 할 수 있습니다.",
    "Free space": "남은 공간",
    "&Start export": "내보내기 시작(&S)",
    "S&top": "멈춤(&T)",
    "Export stage": "내보내기 단계",
    "Export progress": "내보내기 진행률",
    "Speed and time left": "속도와 남은 시간",
    "Save &to folder:": "저장할 폴더(&T):",
    "Other &drives:": "다른 드라이브(&D):",
    "(choose a drive, e.g. a USB stick)": "(드라이브 선택, 예: USB 메모리)",
    "{name} ({free} free)": "{name} (남은 공간 {free})",
    "Choose where to save the sealed file": "봉인 파일을 저장할 곳을 선택하세요",
    "Choose a folder.": "폴더를 선택하세요.",
    "This folder cannot be used. Choose another one.": "이 폴더는 사용할 수 없습니다. 다른 폴더를 선택하세요.",
    "Needs about {needed}; {free} free there.": "약 {needed}가 필요합니다. 남은 공간은 {free}입니다.",
    "Not enough free space: needs about {needed} but only {free} is free. Free up space or choose another drive.":
        "공간이 부족합니다: 약 {needed}가 필요하지만 {free}만 남아 있습니다. 공간을 비우거나 다른 드라이브를 "
        "선택하세요.",
    "Counting the records…": "기록 수를 세는 중…",
    "Stopping safely…": "안전하게 멈추는 중…",
    "Counting: {what}": "세는 중: {what}",
    "Sealing the file…": "파일을 봉인하는 중…",
    "Exporting {what}: {done} of {total}": "{what} 내보내는 중: {total}건 중 {done}건",
    "{rate} records/s · about {left} left": "초당 {rate}건 · 약 {left} 남음",
    "Sealed: {file} ({size}).": "봉인 완료: {file} ({size})",
    "{exported} records exported, {kept} kept exactly as they are, {aside} set aside with their reason.":
        "{exported}건을 내보냈고, {kept}건은 원래 모습 그대로 보관했으며, {aside}건은 이유와 함께 별도 보관했습니다.",
    # verify
    "Check": "확인",
    "Nothing left behind, and the sealed file is intact and correctly signed.":
        "빠진 기록이 없는지, 봉인 파일이 온전하고 올바르게 서명되었는지 확인합니다.",
    "Reconciliation": "건수 대조",
    "In the EMR": "EMR 원본",
    "Exported": "내보냄",
    "Reconciliation per type": "종류별 건수 대조",
    "Records set aside": "별도 보관한 기록",
    "Sealed file check": "봉인 파일 확인",
    "Every value": "모든 값",
    "Every value checked: {source} values in the EMR — {mapped} in the new records, {carried} kept exactly as "
    "they were beside the records, {aside} in the set-aside records.":
        "값 하나하나까지 확인: EMR의 값 {source}개 — {mapped}개는 새 기록에 담김, {carried}개는 기록 옆에 원래 "
        "모습 그대로 보관, {aside}개는 별도 보관된 기록에 있음.",
    "Nothing left behind: all {rows} records of the EMR are accounted for — {exported} exported, {kept} kept "
    "exactly as they are, {aside} set aside.":
        "빠진 기록 없음: EMR의 기록 {rows}건이 모두 확인되었습니다 — {exported}건 내보냄, {kept}건 원래 모습 그대로 "
        "보관, {aside}건 별도 보관.",
    "The counts do not add up. Do not send this file; export again.":
        "건수가 맞지 않습니다. 이 파일을 보내지 말고 다시 내보내세요.",
    "Other EMR data, kept exactly as it is ({tables} tables)":
        "그 밖의 EMR 자료, 원래 모습 그대로 보관 (표 {tables}개)",
    "Part of the EMR's table “{table}”, kept exactly as it is (why: “{reason}”)":
        "EMR 표 “{table}”의 일부 기록, 원래 모습 그대로 보관 (이유: “{reason}”)",
    "Part of the EMR's table “{table}”, kept exactly as it is (why: measurements that are neither vital signs nor "
    "lab results, kept as they were written)":
        "EMR 표 “{table}”의 일부 기록, 원래 모습 그대로 보관 "
        "(이유: 활력징후도 검사 결과도 아닌 측정 기록, 기록된 그대로)",
    "{kind} (“{section}”)": "{kind} (“{section}”)",
    "the EMR's table “{table}”": "EMR 표 “{table}”",
    "Demo: starting a practice storage system on this PC…": "데모: 이 PC에서 연습용 보관시스템을 시작하는 중…",
    "Press Test connection to check the database chosen now.": "[연결 확인]을 눌러 지금 고른 데이터베이스를 확인하세요.",
    "Checking the sealed file…": "봉인 파일을 확인하는 중…",
    "Sealed file verified: signature valid, {parts} part(s) intact, {size}. File: {path}":
        "봉인 파일 확인 완료: 서명 유효, {parts}개 부분 모두 온전, {size}. 파일: {path}",
    # upload
    "Send": "보내기",
    "Send the sealed file to the national storage system, or carry it to another PC.":
        "봉인 파일을 진료기록보관시스템으로 보내거나, 다른 PC로 옮겨서 보냅니다.",
    "Send it &now over the internet": "지금 인터넷으로 보내기(&N)",
    "&Carry the file to another PC (USB stick)": "다른 PC로 파일 옮기기 — USB 메모리(&C)",
    "&Upload": "보내기(&U)",
    "&Pause": "일시 정지(&P)",
    "Upload progress": "보내기 진행률",
    "Upload speed and time left": "보내기 속도와 남은 시간",
    "Upload state": "보내기 상태",
    "How to carry the file": "파일을 옮기는 방법",
    "Store &address:": "보관시스템 주소(&A):",
    "1. Copy {file} (in {folder}) to a USB stick.\n2. On a PC with internet, install emr-exporter and run: "
    "emr-export upload <the file>\n3. Keep the USB stick until the receipt number is shown. The file is encrypted: "
    "only the national store can open it.":
        "1. {folder} 폴더의 {file} 파일을 USB 메모리에 복사합니다.\n2. 인터넷이 되는 PC에 emr-exporter를 설치하고 "
        "다음을 실행합니다: emr-export upload <파일>\n3. 접수번호가 나올 때까지 USB 메모리를 보관하세요. 파일은 "
        "암호화되어 있어 보관시스템만 열 수 있습니다.",
    "Connecting to the store…": "보관시스템에 연결하는 중…",
    "Demo: a practice storage system is running on this PC. Press Upload to send the file to it.":
        "데모: 연습용 보관시스템이 이 PC에서 실행 중입니다. [보내기]를 누르면 파일을 그곳으로 보냅니다.",
    "Pausing…": "일시 정지하는 중…",
    "Connection problem: retrying automatically…": "연결 문제: 자동으로 다시 시도하는 중…",
    "Waiting before the next try…": "다음 시도를 기다리는 중…",
    "Reconnected; continuing where the store stopped.": "다시 연결됨: 멈춘 곳부터 이어서 보냅니다.",
    "The store is checking the file…": "보관시스템이 파일을 확인하는 중…",
    "Sending…": "보내는 중…",
    "Accepted by the store.": "보관시스템이 접수했습니다.",
    "{done} of {size} · {speed}/s · about {left} left": "{size} 중 {done} · 초당 {speed} · 약 {left} 남음",
    "{done} of {size}": "{size} 중 {done}",
    "Accepted by the store. Receipt number: {number}": "보관시스템이 접수했습니다. 접수번호: {number}",
    "The store holds the whole file but gives no receipt. Keep the bundle until the store confirms in writing "
    "that it has it.":
        "보관시스템이 파일 전체를 받았지만 접수증을 주지 않습니다. 보관시스템이 받았다고 서면으로 확인해 줄 "
        "때까지 이관 파일을 지우지 말고 보관하세요.",
    "&Resume": "이어서 보내기(&R)",
    # done
    "Done": "완료",
    "Keep the receipt number and the transfer report with the clinic's closing papers.":
        "접수번호와 이관 보고서를 폐업 서류와 함께 보관하세요.",
    "Receipt": "접수",
    "Where the file is": "파일 위치",
    "&Open the folder": "폴더 열기(&O)",
    "Open the &report to print": "보고서 열어서 인쇄하기(&R)",
    "&Save a copy of the report…": "보고서 사본 저장(&S)…",
    "Transfer report": "이관 보고서",
    "Receipt number: {number}": "접수번호: {number}",
    "Not sent yet. Once the file is uploaded from another PC, that PC shows the receipt number.":
        "아직 보내지 않았습니다. 다른 PC에서 파일을 보내면 그 PC에 접수번호가 표시됩니다.",
    "The sealed file: {path}": "봉인 파일: {path}",
    "Writing the transfer report…": "이관 보고서를 만드는 중…",
    "Transfer report (PDF): {path}": "이관 보고서(PDF): {path}",
    "Save a copy of the transfer report": "이관 보고서 사본 저장",
    "PDF (*.pdf)": "PDF (*.pdf)",
    "Saved: {path}": "저장함: {path}",
    # texts: record types
    "Doctors and staff": "의료인",
    "Patients": "환자",
    "Visits": "내원",
    "Diagnoses": "상병",
    "Chart notes": "진료기록",
    "Orders and prescriptions": "처방·오더",
    "Procedures": "처치·수술",
    "Lab results": "검사 결과",
    "Imaging reports": "영상 판독",
    "Certificates issued": "발급한 증명서",
    "Receipts": "영수증",
    "Fee details": "진료비 세부내역",
    "Attached files": "첨부파일",
    "Nursing records": "간호기록",
    "Allergies and adverse reactions": "알레르기·부작용",
    "Vaccinations": "예방접종",
    "Vital signs": "활력징후",
    "Insurance coverage periods": "보험 자격 이력",
    "Medication list": "복용 약 목록",
    "Lab reports": "검사 보고서",
    "Payments (card, cash)": "수납 결제 (카드·현금)",
    "Appointments (bookings)": "예약",
    # texts: reasons
    "refers to a record that does not exist": "없는 기록을 가리킴",
    "repeats another record's number": "다른 기록과 번호가 중복됨",
    "has an impossible date": "있을 수 없는 날짜",
    "a required value is empty": "꼭 필요한 값이 비어 있음",
    "text that cannot be read (damaged characters)": "읽을 수 없는 글자(깨진 문자)",
    "text that would lose characters": "글자가 손실될 수 있는 텍스트",
    "the attached file is missing": "첨부파일이 없음",
    "the attached file cannot be read": "첨부파일을 읽을 수 없음",
    "the file is outside the attachments folder": "첨부파일 폴더 밖의 파일",
    "the record has no number": "기록 번호가 없음",
    "a number that is not valid": "올바르지 않은 숫자",
    "a code the EMR connector does not know": "EMR 커넥터가 모르는 코드",
    "a yes/no value that is not valid": "올바르지 않은 예/아니오 값",
    "stored data that is not valid": "올바르지 않은 저장 데이터",
    "cannot be written in the national format": "표준 형식으로 옮길 수 없음",
    # texts: steps
    "institution": "기관 정보",
    "EMR": "EMR",
    "scan": "살펴보기",
    "export": "내보내기",
    "check": "확인",
    "sending": "보내기",
    "done": "완료",
    # texts: errors
    "The certificate password is wrong. Type it again (capital letters matter).":
        "인증서 비밀번호가 틀렸습니다. 다시 입력하세요(대소문자를 구분합니다).",
    "This certificate has expired. Renew the institution's certificate (공동인증서) and load it.":
        "인증서 유효기간이 지났습니다. 기관 인증서(공동인증서)를 갱신한 뒤 다시 불러오세요.",
    "This certificate is not valid yet. Check the computer's date and time.":
        "아직 사용할 수 없는 인증서입니다. 컴퓨터의 날짜와 시간을 확인하세요.",
    "This certificate cannot be used for signing.": "이 인증서로는 서명할 수 없습니다.",
    "The EMR database cannot be opened. Check the file or the connection details.":
        "EMR 데이터베이스를 열 수 없습니다. 파일이나 연결 정보를 확인하세요.",
    "Reading the EMR database failed.": "EMR 데이터베이스를 읽지 못했습니다.",
    "The database did not accept the account name or the password. Type the database password again (capital "
    "letters matter). If it still fails, ask your IT contractor for the account name and password.":
        "데이터베이스가 계정 이름이나 비밀번호를 받아들이지 않았습니다. 데이터베이스 비밀번호를 다시 입력하세요"
        "(대문자와 소문자를 구분합니다). 그래도 안 되면 전산 담당자에게 계정 이름과 비밀번호를 물어보세요.",
    "The EMR server PC does not answer: it may be switched off, or the network to it is down. Check that the EMR "
    "server PC is switched on and connected to the network (cable or Wi-Fi), then try again. If it still fails, "
    "ask your IT contractor to check the server's name and port.":
        "EMR 서버 컴퓨터가 응답하지 않습니다. 꺼져 있거나 그 컴퓨터까지의 네트워크가 끊겼을 수 있습니다. EMR 서버 "
        "컴퓨터가 켜져 있는지, 랜선이나 와이파이로 연결되어 있는지 확인한 다음 다시 해 보세요. 그래도 안 되면 "
        "전산 담당자에게 서버 이름과 포트 번호를 확인해 달라고 하세요.",
    "The EMR server PC is on, but its EMR database does not take the connection: the database is not running (or "
    "still starting), or the port is wrong. Check that the EMR program works on the EMR server PC (if it does not, "
    "restart that PC), then try again. If it still fails, ask your IT contractor to check the server's port.":
        "EMR 서버 컴퓨터는 켜져 있지만 그 컴퓨터의 EMR 데이터베이스가 연결을 받지 않습니다. 데이터베이스가 꺼져 "
        "있거나 아직 켜지는 중이거나, 포트 번호가 틀렸을 수 있습니다. EMR 서버 컴퓨터에서 EMR 프로그램이 잘 "
        "열리는지 확인한 다음(열리지 않으면 그 컴퓨터를 다시 시작하세요) 다시 해 보세요. 그래도 안 되면 전산 "
        "담당자에게 포트 번호를 확인해 달라고 하세요.",
    "The EMR server PC took the connection, but its EMR database did not answer in time: it may be stuck or very "
    "busy. Wait a moment and try again. If it keeps happening, restart the EMR server PC, or ask your IT "
    "contractor to check the server's name and port.":
        "EMR 서버 컴퓨터에 연결은 되었지만 그 컴퓨터의 EMR 데이터베이스가 제때 응답하지 않았습니다. 멈춰 있거나 "
        "몹시 바쁠 수 있습니다. 잠시 기다린 다음 다시 해 보세요. 계속 그러면 EMR 서버 컴퓨터를 다시 시작하거나, "
        "전산 담당자에게 서버 이름과 포트 번호를 확인해 달라고 하세요.",
    "Sto&p": "멈춤(&P)",
    "The database server answered, but it has no database with that name. Ask your IT contractor or the EMR "
    "company for the database's exact name.":
        "데이터베이스 서버에는 연결되었지만 그런 이름의 데이터베이스가 없습니다. 전산 담당자나 EMR 회사에 "
        "데이터베이스의 정확한 이름을 물어보세요.",
    "The program this PC needs to reach that kind of database (its driver) is not installed. Ask your IT "
    "contractor to install it.":
        "이 PC에 그 데이터베이스에 연결하는 프로그램(드라이버)이 설치되어 있지 않습니다. 전산 담당자에게 "
        "설치해 달라고 하세요.",
    "That EMR connection is not set up in Windows on this PC. Ask your IT contractor to set it up.":
        "그 EMR 연결이 이 PC의 Windows 설정에 없습니다. 전산 담당자에게 설정해 달라고 하세요.",
    "The EMR connection set up in Windows does not fit this program (32-bit or 64-bit). Ask your IT contractor "
    "to set it up again.":
        "Windows에 설정된 EMR 연결이 이 프로그램과 맞지 않습니다(32비트/64비트). 전산 담당자에게 다시 설정해 "
        "달라고 하세요.",
    "This EMR account is not allowed to read part of the records. Ask your IT contractor or the EMR company to "
    "allow it to read everything, then start again.":
        "이 EMR 계정으로는 진료기록 일부를 읽을 수 없습니다. 전산 담당자나 EMR 회사에 모두 읽을 수 있게 해 달라고 "
        "요청한 뒤 다시 시작하세요.",
    "The EMR's database server stopped answering: another program (often the EMR program itself) keeps part of "
    "the records locked. Close the EMR program on every PC, then try again. Nothing is lost.":
        "EMR 데이터베이스 서버가 응답을 멈췄습니다. 다른 프로그램(대개 EMR 프로그램 자신)이 진료기록 일부를 잠그고 "
        "있습니다. 모든 PC에서 EMR 프로그램을 닫은 다음 다시 해 보세요. 잃어버린 것은 없습니다.",
    "The EMR's database server stopped answering: its answer does not arrive through the network. Check the cable, "
    "Wi-Fi or VPN to the PC where the EMR's database runs, then try again. Nothing is lost.":
        "EMR 데이터베이스 서버가 응답을 멈췄습니다. 서버의 응답이 네트워크를 통해 도착하지 않습니다. EMR 데이터베이스가 "
        "있는 PC까지의 랜선, 와이파이, 가상 사설망(원격 접속)을 확인한 다음 다시 해 보세요. "
        "잃어버린 것은 없습니다.",
    "The EMR's database server stopped answering. Check that the PC where the EMR's database runs is switched on "
    "and the EMR program works there, and the network to it, then try again. Nothing is lost.":
        "EMR 데이터베이스 서버가 응답을 멈췄습니다. EMR 데이터베이스가 있는 PC가 켜져 있고 그 PC에서 EMR 프로그램이 "
        "작동하는지, 그 PC까지의 네트워크가 괜찮은지 확인한 다음 다시 해 보세요. 잃어버린 것은 "
        "없습니다.",
    "Stopped.": "멈췄습니다.",
    "The part already exported is kept in the chosen folder: press Start export with the same folder and it "
    "continues where it stopped. Do not delete the files in that folder.":
        "이미 내보낸 기록은 고른 폴더에 그대로 있습니다. 같은 폴더로 [내보내기 시작]을 누르면 멈춘 곳부터 이어서 "
        "합니다. 그 폴더의 파일은 지우지 마세요.",
    "Nothing was written to the folder yet: press Start export and it starts from the beginning.":
        "폴더에는 아직 아무것도 쓰지 않았습니다. [내보내기 시작]을 누르면 처음부터 시작합니다.",
    "Paused before anything was written. Press Start to begin again.":
        "아무것도 쓰기 전에 일시 정지됨. [내보내기 시작]을 누르면 처음부터 시작합니다.",
    "The store has received the whole file and is still checking it. Nothing needs to be sent again: press Resume "
    "later to get the receipt.":
        "보관시스템이 파일을 모두 받았고 아직 확인하고 있습니다. 다시 보낼 것은 없습니다. 잠시 뒤 [이어서 보내기]를 "
        "누르면 접수번호를 받습니다.",
    "Upload paused. Press Resume to continue from where it stopped.":
        "보내기를 멈췄습니다. [이어서 보내기]를 누르면 멈춘 곳부터 이어서 보냅니다.",
    "The upload did not succeed. The file is safe on this PC; try again later or carry it.":
        "보내지 못했습니다. 파일은 이 PC에 안전하게 있습니다. 나중에 다시 보내거나 다른 PC로 옮겨서 보내세요.",
    "The sealed file did not pass the check. Do not send it; export again.":
        "봉인 파일이 확인을 통과하지 못했습니다. 보내지 말고 다시 내보내세요.",
    "A setting is missing or wrong.": "설정이 빠졌거나 잘못되었습니다.",
    "The step did not finish.": "이 단계를 마치지 못했습니다.",
    "An unexpected problem occurred. Please send the details below to your IT contractor.":
        "예상하지 못한 문제가 생겼습니다. 아래 내용을 전산 담당자에게 보내 주세요.",
    "%n s": "%n초",
    "%n min": "%n분",
    "%n h": "%n시간",
    "Search result": "검색 결과",
    "Fo&und on this PC:": "이 PC에서 찾음(&U):",
    "Looking for the EMR on this PC…": "이 PC에서 EMR을 찾는 중…",
    "{product} — {place} (needs the database password)": "{product} — {place} (데이터베이스 비밀번호 필요)",
    "{product} — {percent}% sure — {place}": "{product} — {percent}% 확실 — {place}",
    "No EMR database was found where the installed connectors look. Choose the file or data source below.":
        "설치된 커넥터가 찾는 위치에서 EMR 데이터베이스를 찾지 못했습니다. 아래에서 파일이나 데이터 원본을 고르세요.",
    "Found {count} possible EMR database(s) on this PC.":
        "이 PC에서 EMR 데이터베이스로 보이는 것을 {count}개 찾았습니다.",
    "Found {product} at {place}. It needs the database password: type it and press Test connection.":
        "{place}에서 {product}을(를) 찾았습니다. 데이터베이스 비밀번호가 필요합니다: 입력한 뒤 연결 확인을 누르세요.",
    "Found {product} at {place} ({percent}% sure).": "{place}에서 {product}을(를) 찾았습니다 ({percent}% 확실).",
    "The search of this PC did not finish. Choose the file or data source below.":
        "이 PC 검색을 마치지 못했습니다. 아래에서 파일이나 데이터 원본을 고르세요.",
}
