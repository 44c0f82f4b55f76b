"""Packaged resources (translations, fonts, the document catalogue, store trust anchors): one accessor.

Read through :mod:`importlib.resources`, so the same call works from a source checkout, an installed
wheel and the frozen PyInstaller app (which collects this folder as ``emr_exporter/resources``).
"""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path
from typing import Any

from emr_exporter.errors import ConfigError


def resource_path(*parts: str) -> Path:
    """The file or folder ``parts`` inside the packaged resources, as a real path on disk.

    Fonts and translations are handed to libraries that want file names, so the resources must live on
    the file system (never inside a zip); a missing one is a broken installation, said plainly.
    """
    traversable = files(__name__).joinpath(*parts)
    path = Path(str(traversable))
    if not path.exists():
        name = "/".join(parts) or "."
        raise ConfigError(
            f"The program's resource file {name} is missing; the installation is incomplete. "
            "Reinstall emr-exporter."
        )
    return path


def optional_resource_path(*parts: str) -> Path | None:
    """Like :func:`resource_path`, but None where the resource does not ship (e.g. no store certificate yet)."""
    path = Path(str(files(__name__).joinpath(*parts)))
    return path if path.exists() else None


# --- the wizard's glossary (glossary.toml) -----------------------------------------------------------

_EXEMPT = re.compile(
    r"\{[^{}]*\}"  # {placeholders}
    r"|%n"  # Qt plural number
    r"|\(&.\)|&(?=\w)"  # keyboard marks: (&S), &S
    r"|\*\.\w+|\*"  # file patterns: *.pdf
    r"|(?<![\w])\.\w{2,4}\b"  # file extensions: .p12
    r"|“[^”]*”"  # “quoted” literals: what the founder types or sees
)
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-.][A-Za-z0-9]+)*")


def glossary() -> dict[str, Any]:
    """The wizard's glossary: ``terms``, ``avoid`` (jargon -> plain word) and ``latin.allowed``."""
    import tomllib

    with resource_path("glossary.toml").open("rb") as handle:
        return tomllib.load(handle)


def glossary_problems(korean_text: str, rules: dict[str, Any] | None = None) -> list[str]:
    """What a Korean UI text does against the glossary: jargon it uses, Latin words it should not hold."""
    rules = rules or glossary()
    problems = [f"'{word}' (say: {instead})" for word, instead in rules["avoid"].items() if word in korean_text]
    allowed = set(rules["latin"]["allowed"])
    for word in _LATIN_WORD.findall(_EXEMPT.sub(" ", korean_text)):
        if word not in allowed and word not in rules["avoid"]:
            problems.append(f"untranslated '{word}'")
    return problems
