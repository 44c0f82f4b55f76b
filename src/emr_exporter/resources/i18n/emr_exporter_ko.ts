<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="ko_KR">
    <context>
        <name>DonePage</name>
        <message>
            <location filename="../../gui/pages/done.py" line="23" />
            <source>Done</source>
            <translation>완료</translation>
        </message>
        <message>
            <location filename="../../gui/pages/done.py" line="24" />
            <source>Keep the receipt number and the transfer report with the clinic's closing papers.</source>
            <translation>접수번호와 이관 보고서를 폐업 서류와 함께 보관하세요.</translation>
        </message>
        <message>
            <location filename="../../gui/pages/done.py" line="25" />
            <source>Receipt</source>
            <translation>접수</translation>
        </message>
        <message>
            <location filename="../../gui/pages/done.py" line="26" />
            <source>Where the file is</source>
            <translation>파일 위치</translation>
        </message>
        <message>
            <location filename="../../gui/pages/done.py" line="27" />
            <source>&amp;Open the folder</source>
            <translation>폴더 열기(&amp;O)</translation>
        </message>
        <message>
            <location filename="../../gui/pages/done.py" line="28" />
            <source>Open the &amp;report to print</source>
            <translation>보고서 열어서 인쇄하기(&amp;R)</translation>
        </message>
        <message>
            <location filename="../../gui/pages/done.py" line="29" />
            <source>&amp;Save a copy of the report…</source>
            <translation>보고서 사본 저장(&amp;S)…</translation>
        </message>
        <message>
            <location filename="../../gui/pages/done.py" line="30" />
            <source>Transfer report</source>
            <translation>이관 보고서</translation>
        </message>
        <message>
            <location filename="../../gui/pages/done.py" line="31" />
            <source>Opening the file</source>
            <translation>파일 열기</translation>
        </message>
        <message>
            <location filename="../../gui/pages/done.py" line="33" />
            <source>Practice</source>
            <translation>연습용</translation>
        </message>
        <message>
            <location filename="../../gui/pages/done.py" line="35" />
            <source>PRACTICE ONLY — NOT SUBMITTED (made-up demo clinic)</source>
            <translation>연습용 — 제출되지 않음 (가상의 데모 의원)</translation>
        </message>
        <message>
            <location filename="../../gui/pages/done.py" line="64" />
            <source>Receipt number: {number}</source>
            <translation>접수번호: {number}</translation>
        </message>
        <message>
            <location filename="../../gui/pages/done.py" line="68" />
            <source>Not sent yet. Once the file is uploaded from another PC, that PC shows the receipt number.</source>
            <translation>아직 보내지 않았습니다. 다른 PC에서 파일을 보내면 그 PC에 접수번호가 표시됩니다.</translation>
        </message>
        <message>
            <location filename="../../gui/pages/done.py" line="71" />
            <source>The sealed file: {path}</source>
            <translation>봉인 파일: {path}</translation>
        </message>
        <message>
            <location filename="../../gui/pages/done.py" line="77" />
            <source>The transfer report needs {name}, which was not copied with the file. Print the report on the PC that made the export, or copy that file next to the sealed file and start again.</source>
            <translation>이관 보고서를 만들려면 “{name}” 파일이 필요한데 함께 복사되지 않았습니다. 내보내기를 한 PC에서 보고서를 인쇄하거나, 그 파일을 봉인 파일 옆에 복사한 뒤 다시 시작하세요.</translation>
        </message>
        <message>
            <location filename="../../gui/pages/done.py" line="96" />
            <source>Writing the transfer report…</source>
            <translation>이관 보고서를 만드는 중…</translation>
        </message>
        <message>
            <location filename="../../gui/pages/done.py" line="107" />
            <source>Transfer report (PDF): {path}</source>
            <translation>이관 보고서(PDF): {path}</translation>
        </message>
        <message>
            <location filename="../../gui/pages/done.py" line="127" />
            <source>No program on this PC could open it. Find it here and open it another way (for a PDF, install a PDF viewer): {path}</source>
            <translation>이 PC에는 이 파일을 여는 프로그램이 없습니다. 아래 위치에서 직접 열어 주세요(PDF는 PDF 보기 프로그램을 설치하면 열립니다): {path}</translation>
        </message>
        <message>
            <location filename="../../gui/pages/done.py" line="138" />
            <source>Save a copy of the transfer report</source>
            <translation>이관 보고서 사본 저장</translation>
        </message>
        <message>
            <location filename="../../gui/pages/done.py" line="138" />
            <source>PDF (*.pdf)</source>
            <translation>PDF (*.pdf)</translation>
        </message>
        <message>
            <location filename="../../gui/pages/done.py" line="144" />
            <source>Saved: {path}</source>
            <translation>저장함: {path}</translation>
        </message>
    </context>
    <context>
        <name>EmrPage</name>
        <message>
            <location filename="../../gui/pages/emr.py" line="31" />
            <source>Which EMR</source>
            <translation>EMR 선택</translation>
        </message>
        <message>
            <location filename="../../gui/pages/emr.py" line="33" />
            <source>Where the EMR keeps its database. Press Test connection: the program recognises the EMR by itself.</source>
            <translation>EMR 데이터베이스가 있는 곳을 알려 주세요. [연결 확인]을 누르면 어떤 EMR인지 스스로 알아냅니다.</translation>
        </message>
        <message>
            <location filename="../../gui/pages/emr.py" line="37" />
            <source>Search result</source>
            <translation>검색 결과</translation>
        </message>
        <message>
            <location filename="../../gui/pages/emr.py" line="42" />
            <source>A database file on this PC</source>
            <translation>이 PC에 있는 데이터베이스 파일</translation>
        </message>
        <message>
            <location filename="../../gui/pages/emr.py" line="43" />
            <source>The EMR's database server (on this PC or the clinic's main PC)</source>
            <translation>EMR 데이터베이스 서버 (이 PC 또는 병원의 메인 PC)</translation>
        </message>
        <message>
            <location filename="../../gui/pages/emr.py" line="44" />
            <source>An ODBC data source set up on this PC (DSN)</source>
            <translation>이 PC에 등록된 EMR 연결 (Windows 설정)</translation>
        </message>
        <message>
            <location filename="../../gui/pages/emr.py" line="45" />
            <source>A database server (ODBC connection string)</source>
            <translation>데이터베이스 서버 (전산 담당자가 알려 준 연결 정보)</translation>
        </message>
        <message>
            <location filename="../../gui/pages/emr.py" line="51" />
            <source>empty: this PC; else the server PC's name or IP address</source>
            <translation>이 PC이면 비워 두세요. 다른 PC이면 그 PC의 이름이나 IP 주소</translation>
        </message>
        <message>
            <location filename="../../gui/pages/emr.py" line="56" />
            <source>About the server</source>
            <translation>서버 안내</translation>
        </message>
        <message>
            <location filename="../../gui/pages/emr.py" line="58" />
            <source>&amp;Browse…</source>
            <translation>찾아보기(&amp;B)…</translation>
        </message>
        <message>
            <location filename="../../gui/pages/emr.py" line="60" />
            <source>as given by your IT contractor</source>
            <translation>전산 담당자가 알려 준 연결 정보를 붙여 넣으세요</translation>
        </message>
        <message>
            <location filename="../../gui/pages/emr.py" line="64" />
            <source>&amp;Test connection</source>
            <translation>연결 확인(&amp;T)</translation>
        </message>
        <message>
            <location filename="../../gui/pages/emr.py" line="67" />
            <source>Sto&amp;p</source>
            <translation>멈춤(&amp;P)</translation>
        </message>
        <message>
            <location filename="../../gui/pages/emr.py" line="70" />
            <source>Connection result</source>
            <translation>연결 결과</translation>
        </message>
        <message>
            <location filename="../../gui/pages/emr.py" line="76" />
            <source>Fo&amp;und on this PC:</source>
            <translation>이 PC에서 찾음(&amp;U):</translation>
        </message>
        <message>
            <location filename="../../gui/pages/emr.py" line="78" />
            <source>&amp;Kind:</source>
            <translation>종류(&amp;K):</translation>
        </message>
        <message>
            <location filename="../../gui/pages/emr.py" line="82" />
            <source>Database &amp;file:</source>
            <translation>데이터베이스 파일(&amp;F):</translation>
        </message>
        <message>
            <location filename="../../gui/pages/emr.py" line="84" />
            <source>Type of &amp;database:</source>
            <translation>데이터베이스 종류(&amp;D):</translation>
        </message>
        <message>
            <location filename="../../gui/pages/emr.py" line="85" />
            <source>Server add&amp;ress:</source>
            <translation>서버 주소(&amp;R):</translation>
        </message>
        <message>
            <location filename="../../gui/pages/emr.py" line="86" />
            <source>Port &amp;number:</source>
            <translation>포트 번호(&amp;N):</translation>
        </message>
        <message>
            <location filename="../../gui/pages/emr.py" line="87" />
            <source>Database na&amp;me:</source>
            <translation>데이터베이스 이름(&amp;M):</translation>
        </message>
        <message>
            <location filename="../../gui/pages/emr.py" line="88" />
            <source>Account &amp;ID:</source>
            <translation>계정 이름(&amp;I):</translation>
        </message>
        <message>
            <location filename="../../gui/pages/emr.py" line="93" />
            <source>Data &amp;source:</source>
            <translation>등록된 연결(&amp;S):</translation>
        </message>
        <message>
            <location filename="../../gui/pages/emr.py" line="94" />
            <source>&amp;ODBC connection:</source>
            <translation>연결 정보(&amp;O):</translation>
        </message>
        <message>
            <location filename="../../gui/pages/emr.py" line="95" />
            <source>Database pass&amp;word:</source>
            <translation>데이터베이스 비밀번호(&amp;W):</translation>
        </message>
        <message>
            <location filename="../../gui/pages/emr.py" line="96" />
            <source>&amp;Attachments folder:</source>
            <translation>첨부파일 폴더(&amp;A):</translation>
        </message>
        <message>
            <location filename="../../gui/pages/emr.py" line="106" />
            <source>&amp;EMR program:</source>
            <translation>EMR 프로그램(&amp;E):</translation>
        </message>
        <message>
            <location filename="../../gui/pages/emr.py" line="158" />
            <source>If you do not know the database name, the account or its password, ask the EMR company. The port is the usual one for the type of database.</source>
            <translation>데이터베이스 이름, 계정 이름, 비밀번호를 모르면 EMR 회사에 물어보세요. 포트 번호에는 그 종류의 데이터베이스가 보통 쓰는 번호가 들어가 있습니다.</translation>
        </message>
        <message>
            <location filename="../../gui/pages/emr.py" line="162" />
            <source>This PC has no program for reaching a database server (SQL Server, MariaDB/MySQL or PostgreSQL). Ask your IT contractor or the EMR company to install the one your EMR uses.</source>
            <translation>이 PC에는 데이터베이스 서버(SQL Server, MariaDB/MySQL, PostgreSQL)에 연결하는 프로그램이 설치되어 있지 않습니다. 전산 담당자나 EMR 회사에 EMR이 쓰는 것을 설치해 달라고 하세요.</translation>
        </message>
        <message>
            <location filename="../../gui/pages/emr.py" line="194" />
            <source>Choose the EMR database file</source>
            <translation>EMR 데이터베이스 파일을 선택하세요</translation>
        </message>
        <message>
            <location filename="../../gui/pages/emr.py" line="241" />
            <source>Looking for the EMR on this PC…</source>
            <translation>이 PC에서 EMR을 찾는 중…</translation>
        </message>
        <message>
            <location filename="../../gui/pages/emr.py" line="251" />
            <source>EMR connection {name}</source>
            <translation>EMR 연결 {name}</translation>
        </message>
        <message>
            <location filename="../../gui/pages/emr.py" line="254" />
            <source>{product} — {place} (needs the database password)</source>
            <translation>{product} — {place} (데이터베이스 비밀번호 필요)</translation>
        </message>
        <message>
            <location filename="../../gui/pages/emr.py" line="256" />
            <source>{product} — {percent}% sure — {place}</source>
            <translation>{product} — {percent}% 확실 — {place}</translation>
        </message>
        <message>
            <location filename="../../gui/pages/emr.py" line="268" />
            <source>No EMR database was found where the installed connectors look. Choose the file or data source below.</source>
            <translation>이 PC에서 EMR 데이터베이스를 찾지 못했습니다. 아래에서 파일이나 등록된 연결을 고르세요.</translation>
        </message>
        <message>
            <location filename="../../gui/pages/emr.py" line="272" />
            <source>Found {count} possible EMR database(s) on this PC.</source>
            <translation>이 PC에서 EMR 데이터베이스로 보이는 것을 {count}개 찾았습니다.</translation>
        </message>
        <message>
            <location filename="../../gui/pages/emr.py" line="293" />
            <source>Found {product} at {place}. It needs the database password: type it and press Test connection.</source>
            <translation>{place}에서 {product}을(를) 찾았습니다. 데이터베이스 비밀번호가 필요합니다: 입력한 뒤 연결 확인을 누르세요.</translation>
        </message>
        <message>
            <location filename="../../gui/pages/emr.py" line="297" />
            <source>Found {product} at {place} ({percent}% sure).</source>
            <translation>{place}에서 {product}을(를) 찾았습니다 ({percent}% 확실).</translation>
        </message>
        <message>
            <location filename="../../gui/pages/emr.py" line="303" />
            <source>The search of this PC did not finish. Choose the file or data source below.</source>
            <translation>이 PC 검색을 마치지 못했습니다. 아래에서 파일이나 등록된 연결을 고르세요.</translation>
        </message>
        <message>
            <location filename="../../gui/pages/emr.py" line="333" />
            <source>Choose the database file or type the connection first.</source>
            <translation>먼저 데이터베이스 파일을 고르거나 연결 정보를 입력하세요.</translation>
        </message>
        <message>
            <location filename="../../gui/pages/emr.py" line="338" />
            <source>Connecting…</source>
            <translation>연결하는 중…</translation>
        </message>
        <message>
            <location filename="../../gui/pages/emr.py" line="364" />
            <source>the database {database} on the server {server}</source>
            <translation>서버 {server}의 데이터베이스 {database}</translation>
        </message>
        <message>
            <location filename="../../gui/pages/emr.py" line="367" />
            <source>the EMR connection {name} set up on this PC</source>
            <translation>이 PC에 등록된 EMR 연결 {name}</translation>
        </message>
        <message>
            <location filename="../../gui/pages/emr.py" line="369" />
            <source>the database file {name}</source>
            <translation>데이터베이스 파일 {name}</translation>
        </message>
        <message>
            <location filename="../../gui/pages/emr.py" line="383" />
            <source>{product} — {percent}% match, version {version}</source>
            <translation>{product} — {percent}% 확실, 버전 {version}</translation>
        </message>
        <message>
            <location filename="../../gui/pages/emr.py" line="391" />
            <source>{product} — not recognised in this database</source>
            <translation>{product} — 이 데이터베이스에서는 확인되지 않음</translation>
        </message>
        <message>
            <location filename="../../gui/pages/emr.py" line="396" />
            <source>Connected to {label}. Recognised: {product} ({percent}% sure).</source>
            <translation>{label}에 연결했습니다. 확인된 EMR: {product} ({percent}% 확실).</translation>
        </message>
        <message>
            <location filename="../../gui/pages/emr.py" line="400" />
            <source>Connected to {label}, but no installed EMR connector recognises it. Choose one, or ask your IT contractor.</source>
            <translation>{label}에 연결했지만 어떤 EMR인지 알아내지 못했습니다. 아래에서 EMR 프로그램을 직접 고르거나 전산 담당자에게 문의하세요.</translation>
        </message>
        <message>
            <location filename="../../gui/pages/emr.py" line="421" />
            <source>Press Test connection to check the database chosen now.</source>
            <translation>[연결 확인]을 눌러 지금 고른 데이터베이스를 확인하세요.</translation>
        </message>
    </context>
    <context>
        <name>ExportPage</name>
        <message>
            <location filename="../../gui/pages/export.py" line="29" />
            <source>Export and seal</source>
            <translation>내보내기와 봉인</translation>
        </message>
        <message>
            <location filename="../../gui/pages/export.py" line="31" />
            <source>The records are signed and encrypted into one file. You can stop at any time and continue later.</source>
            <translation>기록을 서명·암호화하여 파일 하나로 만듭니다. 언제든 멈추고 나중에 이어서 할 수 있습니다.</translation>
        </message>
        <message>
            <location filename="../../gui/pages/export.py" line="34" />
            <source>&amp;Browse…</source>
            <translation>찾아보기(&amp;B)…</translation>
        </message>
        <message>
            <location filename="../../gui/pages/export.py" line="36" />
            <source>Free space</source>
            <translation>남은 공간</translation>
        </message>
        <message>
            <location filename="../../gui/pages/export.py" line="37" />
            <source>&amp;Start export</source>
            <translation>내보내기 시작(&amp;S)</translation>
        </message>
        <message>
            <location filename="../../gui/pages/export.py" line="38" />
            <source>S&amp;top</source>
            <translation>멈춤(&amp;T)</translation>
        </message>
        <message>
            <location filename="../../gui/pages/export.py" line="40" />
            <source>Export stage</source>
            <translation>내보내기 단계</translation>
        </message>
        <message>
            <location filename="../../gui/pages/export.py" line="42" />
            <source>Export progress</source>
            <translation>내보내기 진행률</translation>
        </message>
        <message>
            <location filename="../../gui/pages/export.py" line="43" />
            <source>Speed and time left</source>
            <translation>속도와 남은 시간</translation>
        </message>
        <message>
            <location filename="../../gui/pages/export.py" line="55" />
            <source>Save &amp;to folder:</source>
            <translation>저장할 폴더(&amp;T):</translation>
        </message>
        <message>
            <location filename="../../gui/pages/export.py" line="56" />
            <source>Other &amp;drives:</source>
            <translation>다른 드라이브(&amp;D):</translation>
        </message>
        <message>
            <location filename="../../gui/pages/export.py" line="83" />
            <source>(choose a drive, e.g. a USB stick)</source>
            <translation>(드라이브 선택, 예: USB 메모리)</translation>
        </message>
        <message>
            <location filename="../../gui/pages/export.py" line="92" />
            <source>{name} ({free} free)</source>
            <translation>{name} (남은 공간 {free})</translation>
        </message>
        <message>
            <location filename="../../gui/pages/export.py" line="114" />
            <source>Continuing the transfer: press Start and the export goes on from where it stopped.</source>
            <translation>이어서 합니다: [내보내기 시작]을 누르면 멈춘 곳부터 계속합니다.</translation>
        </message>
        <message>
            <location filename="../../gui/pages/export.py" line="118" />
            <source>Choose where to save the sealed file</source>
            <translation>봉인 파일을 저장할 곳을 선택하세요</translation>
        </message>
        <message>
            <location filename="../../gui/pages/export.py" line="131" />
            <source>Choose a folder.</source>
            <translation>폴더를 선택하세요.</translation>
        </message>
        <message>
            <location filename="../../gui/pages/export.py" line="137" />
            <source>This folder cannot be used. Choose another one.</source>
            <translation>이 폴더는 사용할 수 없습니다. 다른 폴더를 선택하세요.</translation>
        </message>
        <message>
            <location filename="../../gui/pages/export.py" line="143" />
            <source>Needs about {needed}; {free} free there.</source>
            <translation>약 {needed}가 필요합니다. 남은 공간은 {free}입니다.</translation>
        </message>
        <message>
            <location filename="../../gui/pages/export.py" line="148" />
            <source>Not enough free space: needs about {needed} but only {free} is free. Free up space or choose another drive.</source>
            <translation>공간이 부족합니다: 약 {needed}가 필요하지만 {free}만 남아 있습니다. 공간을 비우거나 다른 드라이브를 선택하세요.</translation>
        </message>
        <message>
            <location filename="../../gui/pages/export.py" line="167" />
            <source>Counting the records…</source>
            <translation>기록 수를 세는 중…</translation>
        </message>
        <message>
            <location filename="../../gui/pages/export.py" line="182" />
            <source>Stopping safely…</source>
            <translation>안전하게 멈추는 중…</translation>
        </message>
        <message>
            <location filename="../../gui/pages/export.py" line="190" />
            <source>Counting: {what}</source>
            <translation>세는 중: {what}</translation>
        </message>
        <message>
            <location filename="../../gui/pages/export.py" line="194" />
            <source>Sealing the file…</source>
            <translation>파일을 봉인하는 중…</translation>
        </message>
        <message>
            <location filename="../../gui/pages/export.py" line="206" />
            <source>Exporting {what}: {done} of {total}</source>
            <translation>{what} 내보내는 중: {total}건 중 {done}건</translation>
        </message>
        <message>
            <location filename="../../gui/pages/export.py" line="212" />
            <source>{rate} records/s · about {left} left</source>
            <translation>초당 {rate}건 · 약 {left} 남음</translation>
        </message>
        <message>
            <location filename="../../gui/pages/export.py" line="223" />
            <source>Sealed: {file} ({size}).</source>
            <translation>봉인 완료: {file} ({size})</translation>
        </message>
        <message>
            <location filename="../../gui/pages/export.py" line="226" />
            <source>{exported} records exported, {kept} kept exactly as they are, {aside} set aside with their reason.</source>
            <translation>{exported}건을 내보냈고, {kept}건은 원래 모습 그대로 보관했으며, {aside}건은 이유와 함께 별도 보관했습니다.</translation>
        </message>
        <message>
            <location filename="../../gui/pages/export.py" line="240" />
            <source>Paused. Press Start to continue where it stopped.</source>
            <translation>일시 정지됨. [내보내기 시작]을 누르면 멈춘 곳부터 이어서 합니다.</translation>
        </message>
        <message>
            <location filename="../../gui/pages/export.py" line="241" />
            <source>Paused before anything was written. Press Start to begin again.</source>
            <translation>아무것도 쓰기 전에 일시 정지됨. [내보내기 시작]을 누르면 처음부터 시작합니다.</translation>
        </message>
    </context>
    <context>
        <name>ExportWizard</name>
        <message>
            <location filename="../../gui/wizard.py" line="31" />
            <source>EMR records export — 진료기록 이관</source>
            <extracomment>The wizard's smallest size in logical pixels: fits 1366×768 at 150 % (910×512) and 1024×768 at 125 % (819×614) with room for the title bar and the taskbar.</extracomment>
            <translation>진료기록 이관 — EMR 기록 내보내기</translation>
        </message>
        <message>
            <location filename="../../gui/wizard.py" line="62" />
            <source>Stop and go back?</source>
            <translation>멈추고 뒤로 갈까요?</translation>
        </message>
        <message>
            <location filename="../../gui/wizard.py" line="63" />
            <source>Work is running on this page. Going back stops it at a safe point; nothing is lost and it can continue later. Go back?</source>
            <translation>이 화면에서 작업이 진행 중입니다. 뒤로 가면 안전한 지점에서 멈춥니다. 잃어버리는 것은 없고 나중에 이어서 할 수 있습니다. 뒤로 갈까요?</translation>
        </message>
        <message>
            <location filename="../../gui/wizard.py" line="74" />
            <source>Help: choose the demo clinic first if you want to practise. Nothing is sent without your say-so.</source>
            <translation>도움말: 처음이라면 데모 의원으로 먼저 연습해 보세요. 직접 보내기를 누르기 전에는 아무것도 보내지 않습니다.</translation>
        </message>
        <message>
            <location filename="../../gui/wizard.py" line="76" />
            <source>Help: the 요양기관기호 is the 8-digit number on the clinic's opening certificate and on every claim. Pick the clinic's certificate from the list (the one used for 홈택스 or claims).</source>
            <translation>도움말: 요양기관기호는 의료기관 개설신고증과 모든 청구서에 있는 8자리 번호입니다. 인증서는 목록에서 의원의 인증서(홈택스나 청구에 쓰는 것)를 고르세요.</translation>
        </message>
        <message>
            <location filename="../../gui/wizard.py" line="78" />
            <source>Help: the program looks for the EMR on this PC by itself. If it finds nothing, ask the EMR company where its database is.</source>
            <translation>도움말: 프로그램이 이 PC에서 EMR을 스스로 찾습니다. 찾지 못하면 EMR 회사에 데이터베이스가 어디 있는지 물어보세요.</translation>
        </message>
        <message>
            <location filename="../../gui/wizard.py" line="80" />
            <source>Help: nothing is changed in the EMR. Records that cannot be converted are kept separately, as they are.</source>
            <translation>도움말: EMR의 내용은 전혀 바뀌지 않습니다. 옮길 수 없는 기록은 원래 내용 그대로 별도 보관합니다.</translation>
        </message>
        <message>
            <location filename="../../gui/wizard.py" line="82" />
            <source>Help: you can stop at any time and continue later; nothing is lost. A USB stick works as the destination too.</source>
            <translation>도움말: 언제든 멈추고 나중에 이어서 할 수 있으며 잃어버리는 것은 없습니다. USB 메모리에 저장해도 됩니다.</translation>
        </message>
        <message>
            <location filename="../../gui/wizard.py" line="84" />
            <source>Help: every record of the EMR must be accounted for here before the file is sent.</source>
            <translation>도움말: 보내기 전에 EMR의 모든 기록이 빠짐없이 들어 있는지 여기서 확인합니다.</translation>
        </message>
        <message>
            <location filename="../../gui/wizard.py" line="85" />
            <source>Help: sending can be paused and continued. Without internet here, carry the file to another PC on a USB stick.</source>
            <translation>도움말: 보내기는 일시 정지했다가 이어서 할 수 있습니다. 이 PC에 인터넷이 없으면 USB 메모리로 다른 PC에 옮겨서 보내세요.</translation>
        </message>
        <message>
            <location filename="../../gui/wizard.py" line="87" />
            <source>Help: print the transfer report, sign or seal it, and hand it to the health centre (보건소) with the receipt number.</source>
            <translation>도움말: 이관 보고서를 인쇄해 서명하거나 도장을 찍고, 접수번호와 함께 관할 보건소에 제출하세요.</translation>
        </message>
    </context>
    <context>
        <name>InstitutionPage</name>
        <message>
            <location filename="../../gui/pages/institution.py" line="32" />
            <source>Institution and certificate</source>
            <translation>기관 정보와 인증서</translation>
        </message>
        <message>
            <location filename="../../gui/pages/institution.py" line="34" />
            <source>The clinic's 요양기관기호 and name, the closing date, and the certificate that signs the records.</source>
            <translation>의원의 요양기관기호와 이름, 폐업(휴업) 일자, 그리고 기록에 서명할 인증서입니다.</translation>
        </message>
        <message>
            <location filename="../../gui/pages/institution.py" line="45" />
            <source>&amp;File…</source>
            <translation>파일(&amp;F)…</translation>
        </message>
        <message>
            <location filename="../../gui/pages/institution.py" line="46" />
            <source>F&amp;older…</source>
            <translation>폴더(&amp;O)…</translation>
        </message>
        <message>
            <location filename="../../gui/pages/institution.py" line="49" />
            <source>&amp;Load certificate</source>
            <translation>인증서 불러오기(&amp;L)</translation>
        </message>
        <message>
            <location filename="../../gui/pages/institution.py" line="50" />
            <source>Certificate</source>
            <translation>인증서</translation>
        </message>
        <message>
            <location filename="../../gui/pages/institution.py" line="51" />
            <source>Institution code check</source>
            <translation>요양기관기호 확인</translation>
        </message>
        <message>
            <location filename="../../gui/pages/institution.py" line="52" />
            <source>Where to find the institution code</source>
            <translation>요양기관기호 찾는 곳</translation>
        </message>
        <message>
            <location filename="../../gui/pages/institution.py" line="54" />
            <source>8 digits, on the clinic's opening certificate (개설신고증), on every claim, and in the EMR's clinic settings.</source>
            <translation>8자리 숫자입니다. 의료기관 개설신고증, 모든 청구서, EMR의 병원 정보 설정 화면에 있습니다.</translation>
        </message>
        <message>
            <location filename="../../gui/pages/institution.py" line="60" />
            <source>phone number</source>
            <translation>전화번호</translation>
        </message>
        <message>
            <location filename="../../gui/pages/institution.py" line="64" />
            <source>User</source>
            <translation>사용자</translation>
        </message>
        <message>
            <location filename="../../gui/pages/institution.py" line="64" />
            <source>Purpose</source>
            <translation>용도</translation>
        </message>
        <message>
            <location filename="../../gui/pages/institution.py" line="64" />
            <source>Issuer</source>
            <translation>발급자</translation>
        </message>
        <message>
            <location filename="../../gui/pages/institution.py" line="64" />
            <source>Expires</source>
            <translation>만료일</translation>
        </message>
        <message>
            <location filename="../../gui/pages/institution.py" line="65" />
            <source>Where</source>
            <translation>위치</translation>
        </message>
        <message>
            <location filename="../../gui/pages/institution.py" line="66" />
            <source>Certificates found on this PC</source>
            <translation>이 PC에서 찾은 인증서</translation>
        </message>
        <message>
            <location filename="../../gui/pages/institution.py" line="68" />
            <source>Certificates found</source>
            <translation>찾은 인증서</translation>
        </message>
        <message>
            <location filename="../../gui/pages/institution.py" line="69" />
            <source>Certificate and institution</source>
            <translation>인증서와 기관 대조</translation>
        </message>
        <message>
            <location filename="../../gui/pages/institution.py" line="75" />
            <source>요양기관기호 (&amp;institution code):</source>
            <translation>요양기관기호(&amp;I):</translation>
        </message>
        <message>
            <location filename="../../gui/pages/institution.py" line="78" />
            <source>Clinic &amp;name:</source>
            <translation>기관 이름(&amp;N):</translation>
        </message>
        <message>
            <location filename="../../gui/pages/institution.py" line="79" />
            <source>Closing &amp;date:</source>
            <translation>폐업(휴업) 일자(&amp;D):</translation>
        </message>
        <message>
            <location filename="../../gui/pages/institution.py" line="80" />
            <source>Records c&amp;ustodian:</source>
            <translation>보관 책임자(&amp;U):</translation>
        </message>
        <message>
            <location filename="../../gui/pages/institution.py" line="81" />
            <source>Custodian's &amp;contact:</source>
            <translation>보관 책임자 연락처(&amp;C):</translation>
        </message>
        <message>
            <location filename="../../gui/pages/institution.py" line="82" />
            <source>Certificates:</source>
            <translation>인증서 목록:</translation>
        </message>
        <message>
            <location filename="../../gui/pages/institution.py" line="88" />
            <source>Cer&amp;tificate:</source>
            <translation>인증서(&amp;T):</translation>
        </message>
        <message>
            <location filename="../../gui/pages/institution.py" line="92" />
            <source>Certificate &amp;password:</source>
            <translation>인증서 비밀번호(&amp;P):</translation>
        </message>
        <message>
            <location filename="../../gui/pages/institution.py" line="99" />
            <source>Choose a certificate file</source>
            <translation>인증서 파일 선택</translation>
        </message>
        <message>
            <location filename="../../gui/pages/institution.py" line="100" />
            <source>Choose a 공동인증서 folder</source>
            <translation>공동인증서 폴더 선택</translation>
        </message>
        <message>
            <location filename="../../gui/pages/institution.py" line="130" />
            <source>Looking for certificates on this PC and USB sticks…</source>
            <translation>이 PC와 USB 메모리에서 인증서를 찾는 중…</translation>
        </message>
        <message>
            <location filename="../../gui/pages/institution.py" line="133" />
            <source>Preparing the demo clinic…</source>
            <translation>데모 의원을 준비하는 중…</translation>
        </message>
        <message>
            <location filename="../../gui/pages/institution.py" line="148" />
            <source>Demo clinic ready. Its demo certificate's password is “demo”.</source>
            <translation>데모 의원이 준비되었습니다. 데모 인증서 비밀번호는 “demo”입니다.</translation>
        </message>
        <message>
            <location filename="../../gui/pages/institution.py" line="160" />
            <location filename="../../gui/pages/institution.py" line="161" />
            <source>this PC</source>
            <translation>이 PC</translation>
        </message>
        <message>
            <location filename="../../gui/pages/institution.py" line="160" />
            <source>USB stick / other drive</source>
            <translation>USB 메모리 / 다른 드라이브</translation>
        </message>
        <message>
            <location filename="../../gui/pages/institution.py" line="165" />
            <source>(shown after the password)</source>
            <translation>(비밀번호를 넣으면 표시)</translation>
        </message>
        <message>
            <location filename="../../gui/pages/institution.py" line="169" />
            <source>(expired)</source>
            <translation>(만료됨)</translation>
        </message>
        <message>
            <location filename="../../gui/pages/institution.py" line="180" />
            <source>{count} certificate(s) found. Choose one, or use File… / Folder… below.</source>
            <translation>인증서 {count}개를 찾았습니다. 목록에서 고르거나 아래의 [파일]/[폴더]로 직접 선택하세요.</translation>
        </message>
        <message>
            <location filename="../../gui/pages/institution.py" line="182" />
            <source>No other certificate in the usual places; the one chosen below is used.</source>
            <translation>표준 위치에는 다른 인증서가 없습니다. 아래에서 고른 인증서를 씁니다.</translation>
        </message>
        <message>
            <location filename="../../gui/pages/institution.py" line="184" />
            <source>No certificate found on this PC or a USB stick. Use File… or Folder… below.</source>
            <translation>이 PC와 USB 메모리에서 인증서를 찾지 못했습니다. 아래의 [파일]/[폴더]로 직접 선택하세요.</translation>
        </message>
        <message>
            <location filename="../../gui/pages/institution.py" line="194" />
            <source>The 요양기관기호 has 8 digits.</source>
            <translation>요양기관기호는 숫자 8자리입니다.</translation>
        </message>
        <message>
            <location filename="../../gui/pages/institution.py" line="207" />
            <source>Choose the certificate file</source>
            <translation>인증서 파일을 선택하세요</translation>
        </message>
        <message>
            <location filename="../../gui/pages/institution.py" line="207" />
            <source>Certificates (*.p12 *.pfx *.der);;All files (*)</source>
            <translation>인증서 (*.p12 *.pfx *.der);;모든 파일 (*)</translation>
        </message>
        <message>
            <location filename="../../gui/pages/institution.py" line="213" />
            <source>Choose the 공동인증서 folder (with signCert.der)</source>
            <translation>공동인증서 폴더를 선택하세요 (“signCert.der” 파일이 있는 폴더)</translation>
        </message>
        <message>
            <location filename="../../gui/pages/institution.py" line="222" />
            <source>Choose the certificate file or folder first.</source>
            <translation>먼저 인증서 파일이나 폴더를 선택하세요.</translation>
        </message>
        <message>
            <location filename="../../gui/pages/institution.py" line="227" />
            <source>Opening the certificate…</source>
            <translation>인증서를 여는 중…</translation>
        </message>
        <message>
            <location filename="../../gui/pages/institution.py" line="251" />
            <source>Certificate holder: {holder}
Valid from {start} to {end}</source>
            <translation>인증서 소유자: {holder}
유효기간: {start} ~ {end}</translation>
        </message>
        <message>
            <location filename="../../gui/pages/institution.py" line="257" />
            <source>It expires in {days} days: finish the export before then.</source>
            <translation>{days}일 뒤에 만료됩니다. 그 전에 이관을 마치세요.</translation>
        </message>
        <message>
            <location filename="../../gui/pages/institution.py" line="278" />
            <source>This certificate seems to belong to another institution ({subject}). Choose the certificate of this clinic ({code}).</source>
            <translation>선택한 인증서는 다른 기관의 것으로 보입니다({subject}). 이 의원({code})의 인증서를 고르세요.</translation>
        </message>
        <message>
            <location filename="../../gui/pages/institution.py" line="283" />
            <source>The certificate belongs to this clinic.</source>
            <translation>이 의원의 인증서임을 확인했습니다.</translation>
        </message>
        <message>
            <location filename="../../gui/pages/institution.py" line="287" />
            <source>The certificate names no institution to compare; make sure it is this clinic's certificate.</source>
            <translation>인증서에 기관 정보가 없어 대조하지 못했습니다. 이 의원의 인증서가 맞는지 확인하세요.</translation>
        </message>
    </context>
    <context>
        <name>ScanPage</name>
        <message>
            <location filename="../../gui/pages/scan.py" line="26" />
            <source>What will be exported</source>
            <translation>내보낼 기록 살펴보기</translation>
        </message>
        <message>
            <location filename="../../gui/pages/scan.py" line="27" />
            <source>The program reads the whole database once, without changing it.</source>
            <translation>데이터베이스 전체를 한 번 읽습니다. 아무것도 바꾸지 않습니다.</translation>
        </message>
        <message>
            <location filename="../../gui/pages/scan.py" line="29" />
            <source>Scan progress</source>
            <translation>살펴보기 진행률</translation>
        </message>
        <message>
            <location filename="../../gui/pages/scan.py" line="30" />
            <source>Scan status</source>
            <translation>살펴보기 상태</translation>
        </message>
        <message>
            <location filename="../../gui/pages/scan.py" line="33" />
            <source>Record type</source>
            <translation>기록 종류</translation>
        </message>
        <message>
            <location filename="../../gui/pages/scan.py" line="33" />
            <source>Records</source>
            <translation>건수</translation>
        </message>
        <message>
            <location filename="../../gui/pages/scan.py" line="33" />
            <source>Set aside</source>
            <translation>별도 보관</translation>
        </message>
        <message>
            <location filename="../../gui/pages/scan.py" line="33" />
            <source>Why set aside</source>
            <translation>별도 보관 이유</translation>
        </message>
        <message>
            <location filename="../../gui/pages/scan.py" line="35" />
            <source>Records per type</source>
            <translation>종류별 기록 수</translation>
        </message>
        <message>
            <location filename="../../gui/pages/scan.py" line="40" />
            <source>Date range</source>
            <translation>기간</translation>
        </message>
        <message>
            <location filename="../../gui/pages/scan.py" line="41" />
            <source>Sample patient</source>
            <translation>환자 예시</translation>
        </message>
        <message>
            <location filename="../../gui/pages/scan.py" line="42" />
            <source>&amp;Scan again</source>
            <translation>다시 살펴보기(&amp;S)</translation>
        </message>
        <message>
            <location filename="../../gui/pages/scan.py" line="44" />
            <source>Sto&amp;p</source>
            <translation>멈춤(&amp;P)</translation>
        </message>
        <message>
            <location filename="../../gui/pages/scan.py" line="80" />
            <source>Reading the database…</source>
            <translation>데이터베이스를 읽는 중…</translation>
        </message>
        <message>
            <location filename="../../gui/pages/scan.py" line="105" />
            <source>Reading {what}: {done} of {total}</source>
            <translation>{what} 읽는 중: {total}건 중 {done}건</translation>
        </message>
        <message>
            <location filename="../../gui/pages/scan.py" line="125" />
            <source>{rows} records found: {exported} to export, {kept} to keep exactly as they are, {aside} to set aside with their reason.</source>
            <translation>기록 {rows}건을 찾았습니다: {exported}건은 내보내고, {kept}건은 원래 모습 그대로 보관하며, {aside}건은 이유와 함께 별도 보관합니다.</translation>
        </message>
        <message>
            <location filename="../../gui/pages/scan.py" line="144" />
            <source>Other EMR data, kept exactly as it is ({tables} tables)</source>
            <translation>그 밖의 EMR 자료, 원래 모습 그대로 보관 (표 {tables}개)</translation>
        </message>
        <message>
            <location filename="../../gui/pages/scan.py" line="160" />
            <source>Visits from {first} to {last}.</source>
            <translation>진료 기간: {first} ~ {last}</translation>
        </message>
        <message>
            <location filename="../../gui/pages/scan.py" line="166" />
            <source>Sample patient: chart {chart}, {name}, born {born}, 주민등록번호 {rrn}</source>
            <translation>환자 예시: 차트번호 {chart}, {name}, 생년월일 {born}, 주민등록번호 {rrn}</translation>
        </message>
    </context>
    <context>
        <name>StartPage</name>
        <message>
            <location filename="../../gui/pages/start.py" line="28" />
            <source>Welcome</source>
            <translation>시작</translation>
        </message>
        <message>
            <location filename="../../gui/pages/start.py" line="30" />
            <source>This program copies every medical record of the clinic, seals it with the clinic's certificate and hands it to the national record storage system (진료기록보관시스템).</source>
            <translation>이 프로그램은 의원의 모든 진료기록을 복사하여 기관 인증서로 서명·봉인한 뒤 휴·폐업 의료기관 진료기록보관시스템에 넘겨 드립니다.</translation>
        </message>
        <message>
            <location filename="../../gui/pages/start.py" line="34" />
            <source>&amp;Export this clinic's records</source>
            <translation>이 의원의 진료기록 내보내기(&amp;E)</translation>
        </message>
        <message>
            <location filename="../../gui/pages/start.py" line="35" />
            <source>Try everything with the &amp;demo clinic (made-up patients)</source>
            <translation>데모 의원으로 전체 과정 연습하기 — 가상 환자(&amp;D)</translation>
        </message>
        <message>
            <location filename="../../gui/pages/start.py" line="36" />
            <source>&amp;Continue the unfinished export</source>
            <translation>끝나지 않은 이관 이어서 하기(&amp;C)</translation>
        </message>
        <message>
            <location filename="../../gui/pages/start.py" line="38" />
            <source>Send a sealed &amp;file brought from another PC (USB stick)</source>
            <translation>봉인 파일 보내기 — 다른 PC에서 USB 메모리로 가져온 파일(&amp;F)</translation>
        </message>
        <message>
            <location filename="../../gui/pages/start.py" line="40" />
            <source>the .emrx file on the USB stick</source>
            <translation>USB 메모리에 있는 .emrx 파일</translation>
        </message>
        <message>
            <location filename="../../gui/pages/start.py" line="41" />
            <source>&amp;Browse…</source>
            <translation>찾아보기(&amp;B)…</translation>
        </message>
        <message>
            <location filename="../../gui/pages/start.py" line="48" />
            <source>Sealed f&amp;ile:</source>
            <translation>봉인 파일(&amp;I):</translation>
        </message>
        <message>
            <location filename="../../gui/pages/start.py" line="52" />
            <source>Unfinished export</source>
            <translation>끝나지 않은 이관</translation>
        </message>
        <message>
            <location filename="../../gui/pages/start.py" line="57" />
            <source>An export of {name} was not finished (it stopped at the {step} step). Nothing was lost: continue it, or start again.</source>
            <translation>{name}의 이관이 끝나지 않았습니다({step} 단계에서 멈춤). 잃어버린 것은 없습니다. 이어서 하거나 처음부터 다시 시작하세요.</translation>
        </message>
        <message>
            <location filename="../../gui/pages/start.py" line="67" />
            <source>You will need: the clinic's certificate (공동인증서 or .p12 file) and its password, and access to the EMR database on this PC.</source>
            <translation>준비물: 기관 인증서(공동인증서 또는 .p12 파일)와 그 비밀번호, 그리고 이 PC에서 EMR 데이터베이스에 접근할 수 있어야 합니다.</translation>
        </message>
        <message>
            <location filename="../../gui/pages/start.py" line="101" />
            <source>Choose the sealed file (.emrx)</source>
            <translation>봉인 파일(.emrx)을 선택하세요</translation>
        </message>
        <message>
            <location filename="../../gui/pages/start.py" line="101" />
            <source>Sealed file (*.emrx)</source>
            <translation>봉인 파일 (*.emrx)</translation>
        </message>
    </context>
    <context>
        <name>Texts</name>
        <message>
            <location filename="../../gui/texts.py" line="18" />
            <source>Doctors and staff</source>
            <translation>의료인</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="19" />
            <source>Patients</source>
            <translation>환자</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="20" />
            <source>Visits</source>
            <translation>내원</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="21" />
            <source>Diagnoses</source>
            <translation>상병</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="22" />
            <source>Chart notes</source>
            <translation>진료기록</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="23" />
            <source>Orders and prescriptions</source>
            <translation>처방·오더</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="24" />
            <source>Procedures</source>
            <translation>처치·수술</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="25" />
            <source>Lab results</source>
            <translation>검사 결과</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="26" />
            <source>Imaging reports</source>
            <translation>영상 판독</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="27" />
            <source>Certificates issued</source>
            <translation>발급한 증명서</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="28" />
            <source>Receipts</source>
            <translation>영수증</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="29" />
            <source>Fee details</source>
            <translation>진료비 세부내역</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="30" />
            <source>Attached files</source>
            <translation>첨부파일</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="31" />
            <source>Nursing records</source>
            <translation>간호기록</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="32" />
            <source>Allergies and adverse reactions</source>
            <translation>알레르기·부작용</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="33" />
            <source>Vaccinations</source>
            <translation>예방접종</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="34" />
            <source>Vital signs</source>
            <translation>활력징후</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="35" />
            <source>Insurance coverage periods</source>
            <translation>보험 자격 이력</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="36" />
            <source>Medication list</source>
            <translation>복용 약 목록</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="37" />
            <source>Lab reports</source>
            <translation>검사 보고서</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="38" />
            <source>Payments (card, cash)</source>
            <translation>수납 결제 (카드·현금)</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="39" />
            <source>Appointments (bookings)</source>
            <translation>예약</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="50" />
            <source>{kind} (“{section}”)</source>
            <translation>{kind} (“{section}”)</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="57" />
            <source>the EMR's table “{table}”</source>
            <translation>EMR 표 “{table}”</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="68" />
            <source>Part of the EMR's table “{table}”, kept exactly as it is (why: measurements that are neither vital signs nor lab results, kept as they were written)</source>
            <translation>EMR 표 “{table}”의 일부 기록, 원래 모습 그대로 보관 (이유: 활력징후도 검사 결과도 아닌 측정 기록, 기록된 그대로)</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="71" />
            <source>Part of the EMR's table “{table}”, kept exactly as it is (why: “{reason}”)</source>
            <translation>EMR 표 “{table}”의 일부 기록, 원래 모습 그대로 보관 (이유: “{reason}”)</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="78" />
            <source>refers to a record that does not exist</source>
            <translation>없는 기록을 가리킴</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="79" />
            <source>repeats another record's number</source>
            <translation>다른 기록과 번호가 중복됨</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="80" />
            <source>has an impossible date</source>
            <translation>있을 수 없는 날짜</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="81" />
            <source>a required value is empty</source>
            <translation>꼭 필요한 값이 비어 있음</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="82" />
            <source>text that cannot be read (damaged characters)</source>
            <translation>읽을 수 없는 글자(깨진 문자)</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="83" />
            <source>text that would lose characters</source>
            <translation>글자가 손실될 수 있는 텍스트</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="84" />
            <source>the attached file is missing</source>
            <translation>첨부파일이 없음</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="85" />
            <source>the attached file cannot be read</source>
            <translation>첨부파일을 읽을 수 없음</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="86" />
            <source>the file is outside the attachments folder</source>
            <translation>첨부파일 폴더 밖의 파일</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="87" />
            <source>the record has no number</source>
            <translation>기록 번호가 없음</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="88" />
            <source>a number that is not valid</source>
            <translation>올바르지 않은 숫자</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="89" />
            <source>a code the EMR connector does not know</source>
            <translation>프로그램이 모르는 코드</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="90" />
            <source>a yes/no value that is not valid</source>
            <translation>올바르지 않은 예/아니오 값</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="91" />
            <source>stored data that is not valid</source>
            <translation>올바르지 않은 저장 데이터</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="92" />
            <source>cannot be written in the national format</source>
            <translation>표준 형식으로 옮길 수 없음</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="119" />
            <source>institution</source>
            <translation>기관 정보</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="120" />
            <source>EMR</source>
            <translation>EMR</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="121" />
            <source>scan</source>
            <translation>살펴보기</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="122" />
            <source>export</source>
            <translation>내보내기</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="123" />
            <source>check</source>
            <translation>확인</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="124" />
            <source>sending</source>
            <translation>보내기</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="125" />
            <source>done</source>
            <translation>완료</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="135" />
            <source>The certificate password is wrong. Type it again (capital letters matter).</source>
            <translation>인증서 비밀번호가 틀렸습니다. 다시 입력하세요(대소문자를 구분합니다).</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="139" />
            <source>This certificate has expired. Renew the institution's certificate (공동인증서) and load it.</source>
            <translation>인증서 유효기간이 지났습니다. 기관 인증서(공동인증서)를 갱신한 뒤 다시 불러오세요.</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="143" />
            <source>This certificate is not valid yet. Check the computer's date and time.</source>
            <translation>아직 사용할 수 없는 인증서입니다. 컴퓨터의 날짜와 시간을 확인하세요.</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="146" />
            <source>This certificate cannot be used for signing.</source>
            <translation>이 인증서로는 서명할 수 없습니다.</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="154" />
            <source>The EMR database cannot be opened. Check the file or the connection details.</source>
            <translation>EMR 데이터베이스를 열 수 없습니다. 파일이나 연결 정보를 확인하세요.</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="158" />
            <source>This EMR account is not allowed to read part of the records. Ask your IT contractor or the EMR company to allow it to read everything, then start again.</source>
            <translation>이 EMR 계정으로는 진료기록 일부를 읽을 수 없습니다. 전산 담당자나 EMR 회사에 모두 읽을 수 있게 해 달라고 요청한 뒤 다시 시작하세요.</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="163" />
            <source>Reading the EMR database failed.</source>
            <translation>EMR 데이터베이스를 읽지 못했습니다.</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="165" />
            <source>Stopped.</source>
            <translation>멈췄습니다.</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="167" />
            <source>The store keeps reporting an error, so sending stopped: trying again will not fix it. The file is safe on this PC. Tell the store's help desk the message below.</source>
            <translation>보관시스템이 계속 오류를 알려 보내기를 멈췄습니다. 다시 시도해도 해결되지 않습니다. 파일은 이 PC에 안전하게 있습니다. 아래 메시지를 보관시스템 고객센터에 알려 주세요.</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="172" />
            <source>The store has received the whole file and is still checking it. Nothing needs to be sent again: press Resume later to get the receipt.</source>
            <translation>보관시스템이 파일을 모두 받았고 아직 확인하고 있습니다. 다시 보낼 것은 없습니다. 잠시 뒤 [이어서 보내기]를 누르면 접수번호를 받습니다.</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="177" />
            <source>Upload paused. Press Resume to continue from where it stopped.</source>
            <translation>보내기를 멈췄습니다. [이어서 보내기]를 누르면 멈춘 곳부터 이어서 보냅니다.</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="179" />
            <source>The upload did not succeed. The file is safe on this PC; try again later or carry it.</source>
            <translation>보내지 못했습니다. 파일은 이 PC에 안전하게 있습니다. 나중에 다시 보내거나 다른 PC로 옮겨서 보내세요.</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="183" />
            <source>The sealed file did not pass the check. Do not send it; export again.</source>
            <translation>봉인 파일이 확인을 통과하지 못했습니다. 보내지 말고 다시 내보내세요.</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="187" />
            <source>A setting is missing or wrong.</source>
            <translation>설정이 빠졌거나 잘못되었습니다.</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="189" />
            <source>The step did not finish.</source>
            <translation>이 단계를 마치지 못했습니다.</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="190" />
            <source>An unexpected problem occurred. Please send the details below to your IT contractor.</source>
            <translation>예상하지 못한 문제가 생겼습니다. 아래 내용을 전산 담당자에게 보내 주세요.</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="202" />
            <source>The part already exported is kept in the chosen folder: press Start export with the same folder and it continues where it stopped. Do not delete the files in that folder.</source>
            <translation>이미 내보낸 기록은 고른 폴더에 그대로 있습니다. 같은 폴더로 [내보내기 시작]을 누르면 멈춘 곳부터 이어서 합니다. 그 폴더의 파일은 지우지 마세요.</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="205" />
            <source>Nothing was written to the folder yet: press Start export and it starts from the beginning.</source>
            <translation>폴더에는 아직 아무것도 쓰지 않았습니다. [내보내기 시작]을 누르면 처음부터 시작합니다.</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="213" />
            <source>The EMR's database server stopped answering: another program (often the EMR program itself) keeps part of the records locked. Close the EMR program on every PC, then try again. Nothing is lost.</source>
            <translation>EMR 데이터베이스 서버가 응답을 멈췄습니다. 다른 프로그램(대개 EMR 프로그램 자신)이 진료기록 일부를 잠그고 있습니다. 모든 PC에서 EMR 프로그램을 닫은 다음 다시 해 보세요. 잃어버린 것은 없습니다.</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="218" />
            <source>The EMR's database server stopped answering: its answer does not arrive through the network. Check the cable, Wi-Fi or VPN to the PC where the EMR's database runs, then try again. Nothing is lost.</source>
            <translation>EMR 데이터베이스 서버가 응답을 멈췄습니다. 서버의 응답이 네트워크를 통해 도착하지 않습니다. EMR 데이터베이스가 있는 PC까지의 랜선, 와이파이, 가상 사설망(원격 접속)을 확인한 다음 다시 해 보세요. 잃어버린 것은 없습니다.</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="222" />
            <source>The EMR's database server stopped answering. Check that the PC where the EMR's database runs is switched on and the EMR program works there, and the network to it, then try again. Nothing is lost.</source>
            <translation>EMR 데이터베이스 서버가 응답을 멈췄습니다. EMR 데이터베이스가 있는 PC가 켜져 있고 그 PC에서 EMR 프로그램이 작동하는지, 그 PC까지의 네트워크가 괜찮은지 확인한 다음 다시 해 보세요. 잃어버린 것은 없습니다.</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="231" />
            <source>The database did not accept the account name or the password. Type the database password again (capital letters matter). If it still fails, ask your IT contractor for the account name and password.</source>
            <translation>데이터베이스가 계정 이름이나 비밀번호를 받아들이지 않았습니다. 데이터베이스 비밀번호를 다시 입력하세요(대문자와 소문자를 구분합니다). 그래도 안 되면 전산 담당자에게 계정 이름과 비밀번호를 물어보세요.</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="235" />
            <source>The EMR server PC does not answer: it may be switched off, or the network to it is down. Check that the EMR server PC is switched on and connected to the network (cable or Wi-Fi), then try again. If it still fails, ask your IT contractor to check the server's name and port.</source>
            <translation>EMR 서버 컴퓨터가 응답하지 않습니다. 꺼져 있거나 그 컴퓨터까지의 네트워크가 끊겼을 수 있습니다. EMR 서버 컴퓨터가 켜져 있는지, 랜선이나 와이파이로 연결되어 있는지 확인한 다음 다시 해 보세요. 그래도 안 되면 전산 담당자에게 서버 이름과 포트 번호를 확인해 달라고 하세요.</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="239" />
            <source>The EMR server PC is on, but its EMR database does not take the connection: the database is not running (or still starting), or the port is wrong. Check that the EMR program works on the EMR server PC (if it does not, restart that PC), then try again. If it still fails, ask your IT contractor to check the server's port.</source>
            <translation>EMR 서버 컴퓨터는 켜져 있지만 그 컴퓨터의 EMR 데이터베이스가 연결을 받지 않습니다. 데이터베이스가 꺼져 있거나 아직 켜지는 중이거나, 포트 번호가 틀렸을 수 있습니다. EMR 서버 컴퓨터에서 EMR 프로그램이 잘 열리는지 확인한 다음(열리지 않으면 그 컴퓨터를 다시 시작하세요) 다시 해 보세요. 그래도 안 되면 전산 담당자에게 포트 번호를 확인해 달라고 하세요.</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="244" />
            <source>The EMR server PC took the connection, but its EMR database did not answer in time: it may be stuck or very busy. Wait a moment and try again. If it keeps happening, restart the EMR server PC, or ask your IT contractor to check the server's name and port.</source>
            <translation>EMR 서버 컴퓨터에 연결은 되었지만 그 컴퓨터의 EMR 데이터베이스가 제때 응답하지 않았습니다. 멈춰 있거나 몹시 바쁠 수 있습니다. 잠시 기다린 다음 다시 해 보세요. 계속 그러면 EMR 서버 컴퓨터를 다시 시작하거나, 전산 담당자에게 서버 이름과 포트 번호를 확인해 달라고 하세요.</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="248" />
            <source>The database server answered, but it has no database with that name. Ask your IT contractor or the EMR company for the database's exact name.</source>
            <translation>데이터베이스 서버에는 연결되었지만 그런 이름의 데이터베이스가 없습니다. 전산 담당자나 EMR 회사에 데이터베이스의 정확한 이름을 물어보세요.</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="251" />
            <source>The program this PC needs to reach that kind of database (its driver) is not installed. Ask your IT contractor to install it.</source>
            <translation>이 PC에 그 데이터베이스에 연결하는 프로그램(드라이버)이 설치되어 있지 않습니다. 전산 담당자에게 설치해 달라고 하세요.</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="254" />
            <source>That EMR connection is not set up in Windows on this PC. Ask your IT contractor to set it up.</source>
            <translation>그 EMR 연결이 이 PC의 Windows 설정에 없습니다. 전산 담당자에게 설정해 달라고 하세요.</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="256" />
            <source>The EMR connection set up in Windows does not fit this program (32-bit or 64-bit). Ask your IT contractor to set it up again.</source>
            <translation>Windows에 설정된 EMR 연결이 이 프로그램과 맞지 않습니다(32비트/64비트). 전산 담당자에게 다시 설정해 달라고 하세요.</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="278" />
            <source>the store reported an error ({status})</source>
            <translation>보관시스템이 오류({status})를 알렸습니다</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="281" />
            <source>the store did not answer in time</source>
            <translation>보관시스템이 제때 응답하지 않았습니다</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="283" />
            <source>the store closed the connection without answering</source>
            <translation>보관시스템이 응답 없이 연결을 끊었습니다</translation>
        </message>
        <message>
            <location filename="../../gui/texts.py" line="284" />
            <source>the connection to the store failed (check the internet)</source>
            <translation>보관시스템에 연결하지 못했습니다(인터넷 연결을 확인하세요)</translation>
        </message>
        <message numerus="yes">
            <location filename="../../gui/texts.py" line="290" />
            <source>%n s</source>
            <translation>
                <numerusform>%n초</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <location filename="../../gui/texts.py" line="293" />
            <source>%n min</source>
            <translation>
                <numerusform>%n분</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <location filename="../../gui/texts.py" line="294" />
            <source>%n h</source>
            <translation>
                <numerusform>%n시간</numerusform>
            </translation>
        </message>
    </context>
    <context>
        <name>UploadPage</name>
        <message>
            <location filename="../../gui/pages/upload.py" line="33" />
            <source>Send</source>
            <translation>보내기</translation>
        </message>
        <message>
            <location filename="../../gui/pages/upload.py" line="34" />
            <source>Send the sealed file to the national storage system, or carry it to another PC.</source>
            <translation>봉인 파일을 진료기록보관시스템으로 보내거나, 다른 PC로 옮겨서 보냅니다.</translation>
        </message>
        <message>
            <location filename="../../gui/pages/upload.py" line="35" />
            <source>Send it &amp;now over the internet</source>
            <translation>지금 인터넷으로 보내기(&amp;N)</translation>
        </message>
        <message>
            <location filename="../../gui/pages/upload.py" line="36" />
            <source>&amp;Carry the file to another PC (USB stick)</source>
            <translation>다른 PC로 파일 옮기기 — USB 메모리(&amp;C)</translation>
        </message>
        <message>
            <location filename="../../gui/pages/upload.py" line="42" />
            <source>&amp;Upload</source>
            <translation>보내기(&amp;U)</translation>
        </message>
        <message>
            <location filename="../../gui/pages/upload.py" line="43" />
            <source>&amp;Pause</source>
            <translation>일시 정지(&amp;P)</translation>
        </message>
        <message>
            <location filename="../../gui/pages/upload.py" line="46" />
            <source>Upload progress</source>
            <translation>보내기 진행률</translation>
        </message>
        <message>
            <location filename="../../gui/pages/upload.py" line="47" />
            <source>Upload speed and time left</source>
            <translation>보내기 속도와 남은 시간</translation>
        </message>
        <message>
            <location filename="../../gui/pages/upload.py" line="48" />
            <source>Upload state</source>
            <translation>보내기 상태</translation>
        </message>
        <message>
            <location filename="../../gui/pages/upload.py" line="49" />
            <source>How to carry the file</source>
            <translation>파일을 옮기는 방법</translation>
        </message>
        <message>
            <location filename="../../gui/pages/upload.py" line="59" />
            <source>Store &amp;address:</source>
            <extracomment>The demo's practice store, started in a worker (it loads the store key and the bundle checks, and opens a port: the window stays responsive meanwhile).</extracomment>
            <translation>보관시스템 주소(&amp;A):</translation>
        </message>
        <message>
            <location filename="../../gui/pages/upload.py" line="116" />
            <source>Demo: a practice storage system is running on this PC. Press Upload to send the file to it.</source>
            <translation>데모: 연습용 보관시스템이 이 PC에서 실행 중입니다. [보내기]를 누르면 파일을 그곳으로 보냅니다.</translation>
        </message>
        <message>
            <location filename="../../gui/pages/upload.py" line="94" />
            <source>1. Copy {file} and {file}.summary.json (both in {folder}) to a USB stick.
2. On a PC with internet, install this program, choose "Send a sealed file brought from another PC" on its first page and pick the file on the USB stick.
3. Keep the USB stick until the receipt number is shown. The file is encrypted: only the national store can open it.</source>
            <translation>1. {folder} 폴더의 “{file}” 파일과 “{file}.summary.json” 파일을 USB 메모리에 복사합니다.
2. 인터넷이 되는 PC에 이 프로그램을 설치하고, 첫 화면에서 “봉인 파일 보내기”를 고른 뒤 USB 메모리의 파일을 선택합니다.
3. 접수번호가 나올 때까지 USB 메모리를 보관하세요. 파일은 암호화되어 있어 진료기록보관시스템만 열 수 있습니다.</translation>
        </message>
        <message>
            <location filename="../../gui/pages/upload.py" line="90" />
            <source>Demo: starting a practice storage system on this PC…</source>
            <translation>데모: 이 PC에서 연습용 보관시스템을 시작하는 중…</translation>
        </message>
        <message>
            <location filename="../../gui/pages/upload.py" line="104" />
            <source>Continuing the transfer: press Resume and sending goes on from where the store stopped.</source>
            <translation>이어서 합니다: [이어서 보내기]를 누르면 보관시스템이 받은 곳부터 계속 보냅니다.</translation>
        </message>
        <message>
            <location filename="../../gui/pages/upload.py" line="141" />
            <source>Connecting to the store…</source>
            <translation>보관시스템에 연결하는 중…</translation>
        </message>
        <message>
            <location filename="../../gui/pages/upload.py" line="152" />
            <source>Pausing…</source>
            <translation>일시 정지하는 중…</translation>
        </message>
        <message>
            <location filename="../../gui/pages/upload.py" line="158" />
            <source>Connection problem: retrying automatically…</source>
            <translation>연결 문제: 자동으로 다시 시도하는 중…</translation>
        </message>
        <message>
            <location filename="../../gui/pages/upload.py" line="159" />
            <source>Waiting before the next try…</source>
            <translation>다음 시도를 기다리는 중…</translation>
        </message>
        <message>
            <location filename="../../gui/pages/upload.py" line="160" />
            <source>Reconnected; continuing where the store stopped.</source>
            <translation>다시 연결됨: 멈춘 곳부터 이어서 보냅니다.</translation>
        </message>
        <message>
            <location filename="../../gui/pages/upload.py" line="161" />
            <source>The store is checking the file…</source>
            <translation>보관시스템이 파일을 확인하는 중…</translation>
        </message>
        <message>
            <location filename="../../gui/pages/upload.py" line="162" />
            <source>Sending…</source>
            <translation>보내는 중…</translation>
        </message>
        <message>
            <location filename="../../gui/pages/upload.py" line="163" />
            <source>Accepted by the store.</source>
            <translation>보관시스템이 접수했습니다.</translation>
        </message>
        <message>
            <location filename="../../gui/pages/upload.py" line="168" />
            <source>Retrying automatically: {reason}.</source>
            <translation>자동으로 다시 시도합니다: {reason}.</translation>
        </message>
        <message>
            <location filename="../../gui/pages/upload.py" line="173" />
            <source>Next try in {time} ({reason}).</source>
            <translation>{time} 뒤에 다시 시도합니다 ({reason}).</translation>
        </message>
        <message>
            <location filename="../../gui/pages/upload.py" line="188" />
            <source>{done} of {size} · {speed}/s · about {left} left</source>
            <translation>{size} 중 {done} · 초당 {speed} · 약 {left} 남음</translation>
        </message>
        <message>
            <location filename="../../gui/pages/upload.py" line="192" />
            <location filename="../../gui/pages/upload.py" line="201" />
            <source>{done} of {size}</source>
            <translation>{size} 중 {done}</translation>
        </message>
        <message>
            <location filename="../../gui/pages/upload.py" line="207" />
            <source>The store holds the whole file but gives no receipt. Keep the bundle until the store confirms in writing that it has it.</source>
            <translation>보관시스템이 파일 전체를 받았지만 접수증을 주지 않습니다. 보관시스템이 받았다고 서면으로 확인해 줄 때까지 이관 파일을 지우지 말고 보관하세요.</translation>
        </message>
        <message>
            <location filename="../../gui/pages/upload.py" line="211" />
            <source>Accepted by the store. Receipt number: {number}</source>
            <translation>보관시스템이 접수했습니다. 접수번호: {number}</translation>
        </message>
        <message>
            <location filename="../../gui/pages/upload.py" line="220" />
            <source>Paused.</source>
            <translation>일시 정지됨.</translation>
        </message>
        <message>
            <location filename="../../gui/pages/upload.py" line="102" />
            <location filename="../../gui/pages/upload.py" line="221" />
            <source>&amp;Resume</source>
            <translation>이어서 보내기(&amp;R)</translation>
        </message>
    </context>
    <context>
        <name>VerifyPage</name>
        <message>
            <location filename="../../gui/pages/verify.py" line="22" />
            <source>Check</source>
            <translation>확인</translation>
        </message>
        <message>
            <location filename="../../gui/pages/verify.py" line="23" />
            <source>Nothing left behind, and the sealed file is intact and correctly signed.</source>
            <translation>빠진 기록이 없는지, 봉인 파일이 온전하고 올바르게 서명되었는지 확인합니다.</translation>
        </message>
        <message>
            <location filename="../../gui/pages/verify.py" line="24" />
            <source>Reconciliation</source>
            <translation>건수 대조</translation>
        </message>
        <message>
            <location filename="../../gui/pages/verify.py" line="27" />
            <source>Record type</source>
            <translation>기록 종류</translation>
        </message>
        <message>
            <location filename="../../gui/pages/verify.py" line="27" />
            <source>In the EMR</source>
            <translation>EMR 원본</translation>
        </message>
        <message>
            <location filename="../../gui/pages/verify.py" line="27" />
            <source>Exported</source>
            <translation>내보냄</translation>
        </message>
        <message>
            <location filename="../../gui/pages/verify.py" line="27" />
            <source>Set aside</source>
            <translation>별도 보관</translation>
        </message>
        <message>
            <location filename="../../gui/pages/verify.py" line="29" />
            <source>Reconciliation per type</source>
            <translation>종류별 건수 대조</translation>
        </message>
        <message>
            <location filename="../../gui/pages/verify.py" line="34" />
            <source>Every value</source>
            <translation>모든 값</translation>
        </message>
        <message>
            <location filename="../../gui/pages/verify.py" line="35" />
            <source>Records set aside</source>
            <translation>별도 보관한 기록</translation>
        </message>
        <message>
            <location filename="../../gui/pages/verify.py" line="36" />
            <source>Sealed file check</source>
            <translation>봉인 파일 확인</translation>
        </message>
        <message>
            <location filename="../../gui/pages/verify.py" line="55" />
            <source>Nothing left behind: all {rows} records of the EMR are accounted for — {exported} exported, {kept} kept exactly as they are, {aside} set aside.</source>
            <translation>빠진 기록 없음: EMR의 기록 {rows}건이 모두 확인되었습니다 — {exported}건 내보냄, {kept}건 원래 모습 그대로 보관, {aside}건 별도 보관.</translation>
        </message>
        <message>
            <location filename="../../gui/pages/verify.py" line="61" />
            <source>The counts do not add up. Do not send this file; export again.</source>
            <translation>건수가 맞지 않습니다. 이 파일을 보내지 말고 다시 내보내세요.</translation>
        </message>
        <message>
            <location filename="../../gui/pages/verify.py" line="66" />
            <source>Every value checked: {source} values in the EMR — {mapped} in the new records, {carried} kept exactly as they were beside the records, {aside} in the set-aside records.</source>
            <translation>값 하나하나까지 확인: EMR의 값 {source}개 — {mapped}개는 새 기록에 담김, {carried}개는 기록 옆에 원래 모습 그대로 보관, {aside}개는 별도 보관된 기록에 있음.</translation>
        </message>
        <message>
            <location filename="../../gui/pages/verify.py" line="78" />
            <source>Other EMR data, kept exactly as it is ({tables} tables)</source>
            <translation>그 밖의 EMR 자료, 원래 모습 그대로 보관 (표 {tables}개)</translation>
        </message>
        <message>
            <location filename="../../gui/pages/verify.py" line="95" />
            <source>Checking the sealed file…</source>
            <translation>봉인 파일을 확인하는 중…</translation>
        </message>
        <message>
            <location filename="../../gui/pages/verify.py" line="103" />
            <source>Sealed file verified: signature valid, {parts} part(s) intact, {size}. File: {path}</source>
            <translation>봉인 파일 확인 완료: 서명이 올바르고 파일 전체({size})가 온전합니다. 파일: {path}</translation>
        </message>
    </context>
    <context>
        <name>WizardPageBase</name>
        <message>
            <location filename="../../gui/pages/base.py" line="90" />
            <source>Step {number} / {total}</source>
            <translation>{number} / {total} 단계</translation>
        </message>
    </context>
</TS>
