"""Re-scan the wizard's strings into resources/i18n/emr_exporter_ko.ts, fill unfinished Korean from
scripts/i18n_ko_seed.py, and build the .qm with pyside6-lrelease. Run from the repository root:

    .venv/bin/python scripts/update_translations.py

Exits non-zero if a message has no Korean translation (so a new English string cannot ship untranslated).
"""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TS = ROOT / "src" / "emr_exporter" / "resources" / "i18n" / "emr_exporter_ko.ts"
BIN = Path(sys.executable).parent


def main() -> int:
    sys.path.insert(0, str(ROOT / "scripts"))
    from i18n_ko_seed import KO

    sources = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "src" / "emr_exporter" / "gui").rglob("*.py"))
    subprocess.run([str(BIN / "pyside6-lupdate"), *sources, "-no-obsolete", "-ts", str(TS)], cwd=ROOT, check=True)
    tree = ET.parse(TS)
    missing = []
    for message in tree.getroot().iter("message"):
        source = message.findtext("source") or ""
        translation = message.find("translation")
        assert translation is not None
        if translation.get("type") == "unfinished" or not (translation.text or translation.findall("numerusform")):
            korean = KO.get(source)
            if korean is None:
                missing.append(source)
                continue
            if message.get("numerus") == "yes":
                translation.text = None
                for form in list(translation):
                    translation.remove(form)
                ET.SubElement(translation, "numerusform").text = korean
            else:
                translation.text = korean
            translation.attrib.pop("type", None)
    ET.indent(tree, space="    ")
    body = ET.tostring(tree.getroot(), encoding="unicode")
    TS.write_text('<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE TS>\n' + body + "\n", encoding="utf-8")
    subprocess.run([str(BIN / "pyside6-lrelease"), str(TS)], cwd=ROOT, check=True)
    for source in missing:
        print(f"untranslated: {source!r}", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
