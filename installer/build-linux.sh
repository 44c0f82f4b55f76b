#!/usr/bin/env bash
# Build the frozen Linux app (CI) and smoke-test it; optionally compile the Windows installer script.
#
#   installer/build-linux.sh            -> build/ (work files) and dist/emr-exporter/ (the onedir app)
#   installer/build-linux.sh --nsis     -> also dist/emr-exporter-<version>-setup-linux-payload.exe
#
# The Linux payload is for checking the NSIS script only (makensis runs on Linux); the real Windows
# installer is built on Windows by installer/build-windows.ps1 from the same spec and script.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
WITH_NSIS=0
[ "${1:-}" = "--nsis" ] && WITH_NSIS=1

version=$("$PYTHON" -c 'import emr_exporter; print(emr_exporter.__version__)')
start=$(date +%s)
"$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath dist --workpath build installer/emr-exporter.spec
echo "build: $(( $(date +%s) - start )) s, size: $(du -sh dist/emr-exporter | cut -f1) (onedir)"

app=dist/emr-exporter
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The frozen app must not read the developer's settings or journals.
export HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config" XDG_DATA_HOME="$work/home/.local/share" \
  XDG_STATE_HOME="$work/home/.local/state" QT_QPA_PLATFORM=offscreen
mkdir -p "$HOME"

"$app/emr-export" --help >/dev/null
"$app/emr-export" demo --out "$work/demo" --patients 20 --json >"$work/demo.json"
bundle=$(ls "$work"/demo/*.emrx)
"$app/emr-export" verify --json "$bundle" | "$PYTHON" -c 'import json,sys; r=json.load(sys.stdin); assert r["ok"], r; print("verify: ok", r["bundle_id"])'
"$app/emr-exporter" --smoke-test --lang ko
echo "smoke test: passed"

if [ "$WITH_NSIS" = 1 ]; then
  start=$(date +%s)
  makensis -V2 -INPUTCHARSET UTF8 -DVERSION="$version" -DDIST="$PWD/$app" \
    -DOUTFILE="$PWD/dist/emr-exporter-$version-setup-linux-payload.exe" installer/emr-exporter.nsi
  echo "makensis: $(( $(date +%s) - start )) s, $(du -h "dist/emr-exporter-$version-setup-linux-payload.exe" | cut -f1)"
fi
