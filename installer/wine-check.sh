#!/usr/bin/env bash
# Manual check of the installer LOGIC under wine (not run by CI: wine is a 100 MB download).
#   apt-get install --no-install-recommends wine64 wine
#   installer/build-linux.sh --nsis && installer/wine-check.sh dist/emr-exporter-<version>-setup-linux-payload.exe
# Silent install/reinstall/uninstall, user PATH (append, no duplicate, restore, a PATH too long for NSIS
# strings left untouched, created and removed when absent), /D= with a space, shortcuts, the uninstall
# key, and that the user's files survive the uninstall. The payload is the Linux build, so the launchers
# are not run. Everything happens under a throwaway HOME: wine maps Desktop/Documents to $HOME.
set -u
SETUP=$(realpath "$1")
SCRATCH=$(mktemp -d)
trap 'rm -rf "$SCRATCH"' EXIT
export HOME=$SCRATCH/home WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=;winemenubuilder.exe=d"
mkdir -p "$HOME"
getpath() { wine reg query 'HKCU\Environment' /v Path 2>/dev/null | tr -d '\r' | sed -n 's/^ *Path *REG_EXPAND_SZ *//p'; }
fresh() { export WINEPREFIX=$(mktemp -d "$SCRATCH/prefix.XXXX"); wineboot -i >/dev/null 2>&1; U=$WINEPREFIX/drive_c/users/$(id -un); DEF="$U/AppData/Local/Programs/emr-exporter"; }
setpath() { wine reg add 'HKCU\Environment' /v Path /t REG_EXPAND_SZ /d "$1" /f >/dev/null 2>&1; }
FAILED=0
ok() { if [ "$1" = "$2" ]; then echo "  ok: $3"; else echo "  FAIL: $3: got [$1] want [$2]"; FAILED=1; fi; }

echo "A. ordinary PATH, default dir, reinstall, uninstall keeps data"
fresh; setpath 'C:\foo;C:\bar'
wine "$SETUP" /S; ok "$?" 0 "install rc"
ok "$(getpath)" "C:\\foo;C:\\bar;C:\\users\\$(id -un)\\AppData\\Local\\Programs\\emr-exporter" "PATH appended"
ok "$(ls "$U/AppData/Roaming/Microsoft/Windows/Start Menu/Programs/emr-exporter" | sort | tr '\n' '|')" "EMR Exporter (English).lnk|진료기록 이관 (EMR Exporter).lnk|" "start menu shortcuts"
ok "$(ls "$U/Desktop" | grep -c '진료기록 이관 (EMR Exporter).lnk')" 1 "desktop shortcut"
wine "$SETUP" /S; ok "$(getpath)" "C:\\foo;C:\\bar;C:\\users\\$(id -un)\\AppData\\Local\\Programs\\emr-exporter" "reinstall: PATH not duplicated"
echo mine > "$DEF/my-bundle.emrx"; mkdir -p "$U/AppData/Roaming/emr-exporter"; echo s > "$U/AppData/Roaming/emr-exporter/journal.sqlite"
wine "$DEF/uninstall.exe" /S; sleep 4
ok "$(getpath)" 'C:\foo;C:\bar' "uninstall: PATH restored"
ok "$(ls "$DEF" | grep -v -x -e emr-export -e emr-exporter | tr '\n' '|')" "my-bundle.emrx|" "uninstall: user file in install dir kept, program gone"
ok "$(cat "$U/AppData/Roaming/emr-exporter/journal.sqlite")" s "uninstall: journal kept"
ok "$(wine reg query 'HKCU\Software\Microsoft\Windows\CurrentVersion\Uninstall\emr-exporter' >/dev/null 2>&1; echo $?)" 1 "uninstall: Add/Remove Programs key removed"
ok "$(ls "$HOME"/*.lnk 2>/dev/null | wc -l)" 0 "uninstall: desktop shortcut removed (wine maps Desktop to \$HOME)"

echo "B. PATH longer than NSIS strings (1507 chars): left exactly as it was"
fresh; LONG="C:\\keep;$(python3 -c "print(';'.join('C:\\\\long\\\\dir%03d' % i for i in range(100)))")"; setpath "$LONG"
wine "$SETUP" /S; ok "$?" 0 "install rc"
ok "$(getpath)" "$LONG" "install: long PATH untouched"
wine "$DEF/uninstall.exe" /S; sleep 4; ok "$(getpath)" "$LONG" "uninstall: long PATH untouched"

echo "C. no user PATH yet; silent install to /D= with a space"
fresh; wine reg delete 'HKCU\Environment' /v Path /f >/dev/null 2>&1
wine cmd /c "$(winepath -w "$SETUP") /S /D=C:\\Tools\\emr exporter"; ok "$?" 0 "install rc"
ok "$(ls "$WINEPREFIX/drive_c/Tools/emr exporter" | sort | tr '\n' '|')" "_internal|emr-export|emr-exporter|uninstall.exe|" "files in /D= dir"
ok "$(getpath)" 'C:\Tools\emr exporter' "PATH created with the install dir"
wine "C:\\Tools\\emr exporter\\uninstall.exe" /S; sleep 4
ok "$(wine reg query 'HKCU\Environment' /v Path >/dev/null 2>&1; echo $?)" 1 "uninstall: PATH value the installer created is removed"
exit $FAILED
