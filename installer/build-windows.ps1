<#
.SYNOPSIS
  Build the Windows release of emr-exporter: frozen app, smoke test, installer, code signing.

.DESCRIPTION
  Runs on a Windows build machine (or a windows-2022 CI runner) from the repository root:

    1. a venv with the project and PyInstaller        (.venv-win)
    2. PyInstaller with the same spec as Linux CI      -> dist\emr-exporter\ (onedir, two launchers)
    3. smoke test of the FROZEN launchers              emr-export --help / demo / verify; wizard --smoke-test
    4. signtool on both launchers                      (before packaging, so the installed exes are signed)
    5. makensis                                        -> dist\emr-exporter-<version>-setup.exe
    6. signtool on the installer, then verification    (unsigned installers trigger SmartScreen warnings)

  Not run by this project's CI (Linux only); see docs/installer.md for what is verified where.

.PARAMETER CertificateThumbprint
  SHA-1 thumbprint of the code-signing certificate in the current user's store (an EV or OV
  certificate on a hardware token, or a cloud signing service's local certificate). Omit for an
  unsigned test build.

.EXAMPLE
  powershell -ExecutionPolicy Bypass -File installer\build-windows.ps1 -CertificateThumbprint 0123ABCD...
#>
param(
    [string]$CertificateThumbprint = "",
    [string]$TimestampUrl = "http://timestamp.digicert.com",
    [string]$Python = "py -3.11",
    [string]$MakeNsis = "${env:ProgramFiles(x86)}\NSIS\makensis.exe"
)
$ErrorActionPreference = "Stop"
Set-Location (Split-Path -Parent $PSScriptRoot)

function Invoke-Checked([string]$What, [scriptblock]$Block) {
    & $Block
    if ($LASTEXITCODE -ne 0) { throw "$What failed with exit code $LASTEXITCODE" }
}

# 1. Build environment (PySide6-Essentials only: QtCore/QtGui/QtWidgets).
if (-not (Test-Path .venv-win\Scripts\python.exe)) { Invoke-Checked "venv" { Invoke-Expression "$Python -m venv .venv-win" } }
$py = ".venv-win\Scripts\python.exe"
Invoke-Checked "pip" { & $py -m pip install --quiet --upgrade pip }
Invoke-Checked "pip install" { & $py -m pip install --quiet -e ".[gui]" "pyinstaller>=6.10" }
$version = (& $py -c "import emr_exporter; print(emr_exporter.__version__)").Trim()

# 2. Frozen app (the spec drops opengl32sw.dll and unused Qt plugins on Windows too).
$sw = [Diagnostics.Stopwatch]::StartNew()
Invoke-Checked "PyInstaller" { & $py -m PyInstaller --noconfirm --clean --distpath dist --workpath build installer\emr-exporter.spec }
$app = "dist\emr-exporter"
$sizeMB = [math]::Round(((Get-ChildItem $app -Recurse -File | Measure-Object Length -Sum).Sum / 1MB), 1)
Write-Host "PyInstaller: $([int]$sw.Elapsed.TotalSeconds) s, onedir $sizeMB MB (budget: < 80 MB installed)"

# 3. Smoke test of the frozen launchers, isolated from the build user's settings and journals.
$work = Join-Path $env:TEMP ("emr-exporter-smoke-" + [guid]::NewGuid())
New-Item -ItemType Directory $work | Out-Null
$env:EMR_EXPORTER_HOME = "$work\state"
Invoke-Checked "emr-export --help" { & "$app\emr-export.exe" --help | Out-Null }
Invoke-Checked "emr-export demo" { & "$app\emr-export.exe" demo --out "$work\demo" --patients 20 --json | Out-Null }
$bundle = (Get-ChildItem "$work\demo\*.emrx" | Select-Object -First 1).FullName
$verify = & "$app\emr-export.exe" verify --json $bundle | ConvertFrom-Json
if (-not $verify.ok) { throw "the frozen emr-export could not verify its own demo bundle" }
# The windowed exe has no stdout: the wizard writes its smoke report to a file. Start-Process -Wait
# waits for a GUI process (a plain call would not).
$proc = Start-Process -FilePath "$app\emr-exporter.exe" -ArgumentList "--smoke-test", "--lang", "ko", "--smoke-test-out", "$work\smoke.json" -Wait -PassThru
if ($proc.ExitCode -ne 0) { throw "wizard smoke test exited with $($proc.ExitCode)" }
$smoke = Get-Content "$work\smoke.json" -Encoding UTF8 | ConvertFrom-Json
if (-not $smoke.first_page_title -or $smoke.next_button -notlike "다음*") { throw "wizard smoke test: $($smoke | ConvertTo-Json -Compress)" }
Write-Host "smoke test: passed ($($smoke.first_page_title) / $($smoke.next_button))"
Remove-Item -Recurse -Force $work
Remove-Item Env:\EMR_EXPORTER_HOME

# 4.-6. Signing (launchers first, then the installer that carries them).
function Invoke-Sign([string[]]$Files) {
    if (-not $CertificateThumbprint) { Write-Warning "no -CertificateThumbprint: $($Files -join ', ') left UNSIGNED"; return }
    Invoke-Checked "signtool sign" { signtool sign /sha1 $CertificateThumbprint /fd SHA256 /tr $TimestampUrl /td SHA256 /d "emr-exporter" @Files }
    Invoke-Checked "signtool verify" { signtool verify /pa /v @Files | Out-Null }
}
Invoke-Sign @("$app\emr-exporter.exe", "$app\emr-export.exe")

$setup = "dist\emr-exporter-$version-setup.exe"
$sw.Restart()
Invoke-Checked "makensis" { & $MakeNsis /V2 /INPUTCHARSET UTF8 "/DVERSION=$version" "/DDIST=$((Resolve-Path $app).Path)" "/DOUTFILE=$((Resolve-Path dist).Path)\emr-exporter-$version-setup.exe" installer\emr-exporter.nsi }
Write-Host "makensis: $([int]$sw.Elapsed.TotalSeconds) s, installer $([math]::Round((Get-Item $setup).Length / 1MB, 1)) MB"
Invoke-Sign @($setup)

(Get-FileHash $setup -Algorithm SHA256).Hash.ToLower() + "  " + (Split-Path -Leaf $setup) | Out-File -Encoding ascii "$setup.sha256"
Write-Host "done: $setup"
