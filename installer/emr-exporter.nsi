; emr-exporter Windows installer (NSIS 3, Unicode). UTF-8 with BOM.
;
; Per-user install, no administrator rights and no UAC prompt (clinic PCs often have no admin account):
;   %LOCALAPPDATA%\Programs\emr-exporter\emr-exporter.exe   windowed wizard (founders)
;   %LOCALAPPDATA%\Programs\emr-exporter\emr-export.exe     console command line (contractors), on the user PATH
; Silent install for contractors:   emr-exporter-<version>-setup.exe /S [/D=C:\path\without\quotes]
; Silent uninstall:                 "%LOCALAPPDATA%\Programs\emr-exporter\uninstall.exe" /S
; The uninstaller removes the program only. Bundles (Documents\EMR export) and journals/state
; (%APPDATA%\emr-exporter) live outside the install folder and are kept; so is any file the user
; put into the install folder.
;
; Build (Windows, after PyInstaller):  makensis /INPUTCHARSET UTF8 /DVERSION=0.1.0 /DDIST=dist\emr-exporter installer\emr-exporter.nsi
; Build (Linux, to check the script):  makensis -INPUTCHARSET UTF8 -DVERSION=0.1.0 -DDIST=dist/emr-exporter installer/emr-exporter.nsi
; Optional defines: OUTFILE (installer path), COMPRESSOR (default "/SOLID lzma"; "zlib" or "off" for fast test builds).

Unicode true
Target amd64-unicode
ManifestDPIAware true
RequestExecutionLevel user

!ifndef VERSION
  !error "Pass the version: -DVERSION=x.y.z"
!endif
!ifndef DIST
  !error "Pass the PyInstaller output folder: -DDIST=dist/emr-exporter"
!endif
!ifndef OUTFILE
  !define OUTFILE "emr-exporter-${VERSION}-setup.exe"
!endif
!ifndef COMPRESSOR
  !define COMPRESSOR "/SOLID lzma"
!endif
!if "${COMPRESSOR}" == "off"
  SetCompress off
!else
  SetCompressor ${COMPRESSOR}
!endif

!define APP_ID "emr-exporter"
!define GUI_EXE "emr-exporter.exe"
!define CLI_EXE "emr-export.exe"
!define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\${APP_ID}"
!define PUBLISHER "emr-exporter project"

Name "emr-exporter ${VERSION}"
OutFile "${OUTFILE}"
InstallDir "$LOCALAPPDATA\Programs\${APP_ID}"
InstallDirRegKey HKCU "${UNINSTALL_KEY}" "InstallLocation"
ShowInstDetails show
ShowUninstDetails show

VIProductVersion "${VERSION}.0"
VIAddVersionKey /LANG=0 "ProductName" "emr-exporter"
VIAddVersionKey /LANG=0 "ProductVersion" "${VERSION}"
VIAddVersionKey /LANG=0 "FileVersion" "${VERSION}"
VIAddVersionKey /LANG=0 "FileDescription" "emr-exporter installer"
VIAddVersionKey /LANG=0 "CompanyName" "${PUBLISHER}"
VIAddVersionKey /LANG=0 "LegalCopyright" "Apache-2.0"

!include "MUI2.nsh"
!include "LogicLib.nsh"
!include "WinMessages.nsh"
!include "StrFunc.nsh"
${StrStr}
${UnStrRep}

!define MUI_ABORTWARNING
!define MUI_FINISHPAGE_RUN "$INSTDIR\${GUI_EXE}"
!define MUI_FINISHPAGE_RUN_PARAMETERS "--lang ko"
!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES

; The first language is the fallback; NSIS picks the one matching the Windows display language.
!insertmacro MUI_LANGUAGE "Korean"
!insertmacro MUI_LANGUAGE "English"

LangString SHORTCUT_KO ${LANG_KOREAN} "진료기록 이관 (EMR Exporter)"
LangString SHORTCUT_KO ${LANG_ENGLISH} "진료기록 이관 (EMR Exporter)"
LangString SHORTCUT_EN ${LANG_KOREAN} "EMR Exporter (English)"
LangString SHORTCUT_EN ${LANG_ENGLISH} "EMR Exporter (English)"
LangString PATH_ADDED ${LANG_KOREAN} "명령줄 도구 emr-export 를 사용자 PATH 에 추가했습니다."
LangString PATH_ADDED ${LANG_ENGLISH} "Added the emr-export command line to the user PATH."
LangString PATH_TOO_LONG ${LANG_KOREAN} "사용자 PATH 가 너무 길어 자동으로 수정하지 않았습니다. 명령줄을 쓰려면 $INSTDIR 를 PATH 에 직접 추가하세요. (프로그램 사용에는 지장이 없습니다.)"
LangString PATH_TOO_LONG ${LANG_ENGLISH} "Your user PATH is too long to change safely, so it was left as it is. To use the command line, add $INSTDIR to PATH yourself. (The program itself works without it.)"
LangString KEPT_DATA ${LANG_KOREAN} "내보낸 파일(문서\EMR export)과 작업 기록(%APPDATA%\emr-exporter)은 지우지 않았습니다."
LangString KEPT_DATA ${LANG_ENGLISH} "Your exported files (Documents\EMR export) and journals (%APPDATA%\emr-exporter) were kept."

Function .onInit
  SetShellVarContext current
FunctionEnd

Function un.onInit
  SetShellVarContext current
FunctionEnd

Section "emr-exporter" SecMain
  SectionIn RO
  SetOutPath "$INSTDIR"
  ; An upgrade replaces the whole runtime folder, so no stale library from an older version stays behind.
  RMDir /r "$INSTDIR\_internal"
  File /r "${DIST}/*"
  WriteUninstaller "$INSTDIR\uninstall.exe"

  ; Start menu: the wizard in Korean (founders), and in English.
  CreateDirectory "$SMPROGRAMS\emr-exporter"
  CreateShortcut "$SMPROGRAMS\emr-exporter\$(SHORTCUT_KO).lnk" "$INSTDIR\${GUI_EXE}" "--lang ko" "$INSTDIR\${GUI_EXE}" 0
  CreateShortcut "$SMPROGRAMS\emr-exporter\$(SHORTCUT_EN).lnk" "$INSTDIR\${GUI_EXE}" "--lang en" "$INSTDIR\${GUI_EXE}" 0
  CreateShortcut "$DESKTOP\$(SHORTCUT_KO).lnk" "$INSTDIR\${GUI_EXE}" "--lang ko" "$INSTDIR\${GUI_EXE}" 0

  ; Add/Remove Programs entry (per user).
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayName" "emr-exporter ${VERSION} (진료기록 이관)"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "Publisher" "${PUBLISHER}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayIcon" "$INSTDIR\${GUI_EXE}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKCU "${UNINSTALL_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoRepair" 1

  Call AddInstDirToUserPath
SectionEnd

; PATH: HKCU\Environment\Path, appended (never replaced). NSIS strings are at most NSIS_MAX_STRLEN
; (1024) characters: ReadRegStr of a longer value fails with an EMPTY result, and writing "$0;$INSTDIR"
; back would wipe the user's PATH (seen under wine with a 1507-character PATH). So a failed read of an
; existing value, or a PATH near the limit, is left alone and the user is told.
Function AddInstDirToUserPath
  ClearErrors
  ReadRegStr $0 HKCU "Environment" "Path"
  ${If} ${Errors}
    Call UserPathValueExists
    ${If} $R9 == 1
      DetailPrint "$(PATH_TOO_LONG)"
      MessageBox MB_OK|MB_ICONINFORMATION "$(PATH_TOO_LONG)" /SD IDOK
      Return
    ${EndIf}
    StrCpy $0 ""
  ${EndIf}
  ${StrStr} $1 ";$0;" ";$INSTDIR;"
  ${If} $1 != ""
    Return  ; already there (reinstall or upgrade)
  ${EndIf}
  StrLen $2 "$0;$INSTDIR"
  IntOp $3 ${NSIS_MAX_STRLEN} - 2
  ${If} $2 >= $3
    DetailPrint "$(PATH_TOO_LONG)"
    MessageBox MB_OK|MB_ICONINFORMATION "$(PATH_TOO_LONG)" /SD IDOK
    Return
  ${EndIf}
  ${If} $0 == ""
    StrCpy $0 "$INSTDIR"
  ${Else}
    StrCpy $0 "$0;$INSTDIR"
  ${EndIf}
  WriteRegExpandStr HKCU "Environment" "Path" "$0"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "AddedToPath" "$INSTDIR"
  SendMessage ${HWND_BROADCAST} ${WM_SETTINGCHANGE} 0 "STR:Environment" /TIMEOUT=5000
  DetailPrint "$(PATH_ADDED)"
FunctionEnd

; $R9 = 1 if HKCU\Environment has a value named Path (whatever its length), else 0.
Function UserPathValueExists
  StrCpy $R9 0
  StrCpy $R8 0
  ${Do}
    ClearErrors
    EnumRegValue $R7 HKCU "Environment" $R8
    ${If} ${Errors}
    ${OrIf} $R7 == ""
      ${Break}
    ${EndIf}
    ${If} $R7 == "Path"  ; StrCmp is case-insensitive, like the registry
      StrCpy $R9 1
      ${Break}
    ${EndIf}
    IntOp $R8 $R8 + 1
  ${Loop}
FunctionEnd

Function un.RemoveInstDirFromUserPath
  ClearErrors
  ReadRegStr $1 HKCU "${UNINSTALL_KEY}" "AddedToPath"
  ${If} ${Errors}
    Return  ; the installer did not touch PATH
  ${EndIf}
  ClearErrors
  ReadRegStr $0 HKCU "Environment" "Path"
  ${If} ${Errors}
    Return  ; gone, or too long to read: never write back what could not be read
  ${EndIf}
  StrLen $2 $0
  IntOp $3 ${NSIS_MAX_STRLEN} - 2
  ${If} $2 >= $3
    Return  ; possibly truncated: never write it back
  ${EndIf}
  ${UnStrRep} $0 ";$0;" ";$1;" ";"
  ; Trim the separators added above.
  StrCpy $4 $0 1
  ${If} $4 == ";"
    StrCpy $0 $0 "" 1
  ${EndIf}
  StrCpy $4 $0 "" -1
  ${If} $4 == ";"
    StrCpy $0 $0 -1
  ${EndIf}
  ${If} $0 == ""
    DeleteRegValue HKCU "Environment" "Path"  ; the installer created it
  ${Else}
    WriteRegExpandStr HKCU "Environment" "Path" "$0"
  ${EndIf}
  SendMessage ${HWND_BROADCAST} ${WM_SETTINGCHANGE} 0 "STR:Environment" /TIMEOUT=5000
FunctionEnd

Section "Uninstall"
  Call un.RemoveInstDirFromUserPath
  ; Only what the installer put there: the runtime folder, the two launchers, the uninstaller.
  RMDir /r "$INSTDIR\_internal"
  Delete "$INSTDIR\${GUI_EXE}"
  Delete "$INSTDIR\${CLI_EXE}"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"  ; only if empty: anything the user saved here stays
  Delete "$SMPROGRAMS\emr-exporter\$(SHORTCUT_KO).lnk"
  Delete "$SMPROGRAMS\emr-exporter\$(SHORTCUT_EN).lnk"
  RMDir "$SMPROGRAMS\emr-exporter"
  Delete "$DESKTOP\$(SHORTCUT_KO).lnk"
  DeleteRegKey HKCU "${UNINSTALL_KEY}"
  DetailPrint "$(KEPT_DATA)"
SectionEnd
