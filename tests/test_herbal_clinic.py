"""A 한의원's herbal prescriptions, a header and its herb rows (tests/connectors/herbal_clinic.py: ``HANYAK_RX`` and
``HANYAK_RX_ITEM`` on MariaDB), through the contractor's whole flow with the scaffold's connector untouched; every
cell rebuilt from the opened bag (tests/lossless_kit.py). The scaffold's rule (docs/connectors.md, "A prescription
kept as a header and its ingredient rows"): the header an order line (the formula's name), each herb row an order
line of its own beside it (``[entities.order_line_hanyak_rx_item]``), all MedicationRequests sharing the
prescription's key as groupIdentifier; a herb's dose its grams, its patient, visit, day, status and days its
prescription's. 첩수, 용법 and 원산지 have no place in an order line: raw cells (``db``: fails, never skips)."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent / "connectors"))
sys.path.insert(0, str(Path(__file__).parent))
from herbal_clinic import create_herbal_clinic

from test_dental_hanbang_clinics import _counts, _lines
from test_opensource_shaped_clinics import _bag, _fates
from test_random_server_clinics import through_the_flow

pytestmark = pytest.mark.db

#: the cells the herb rows' query joins in from their prescription: visit, patient, day, status and days (5 × 200)
JOINED = 5 * 200


def _of_items(found: dict[str, Any]) -> bool:
    """Whether a MedicationRequest is a herb row's (its source identifier names HANYAK_RX_ITEM)."""
    system: str = found["identifier"][0]["system"]
    return system.lower().endswith(":hanyak_rx_item")


def test_a_herbal_prescription_is_its_herbs_grouped_cell_for_cell(tmp_path: Path, mariadb_conn_str: str) -> None:
    clinic, formulas = create_herbal_clinic(mariadb_conn_str)
    assert sum(len(f[4]) for f in formulas.values()) == 200
    assert through_the_flow(clinic, tmp_path, JOINED) == clinic.cells
    bag = _bag(tmp_path)
    assert _fates(bag) == {"pt_info": ("patient",), "jin_rcv": ("encounter",), "hanyak_rx": ("order_line",),
                           "hanyak_rx_item": ("order_line_hanyak_rx_item",)}
    assert _counts(bag) == {("patient", 36, 36, 0), ("encounter", 90, 90, 0), ("order_line", 30, 30, 0),
                            ("order_line_hanyak_rx_item", 200, 200, 0)}
    requests = list(_lines(bag, "fhir/MedicationRequest"))
    assert len(requests) == 30 + 200
    groups: dict[str, list[dict[str, Any]]] = {}
    for found in requests:
        assert found["groupIdentifier"]["system"].endswith(":group")
        groups.setdefault(found["groupIdentifier"]["value"], []).append(found)
    assert set(groups) == {str(n) for n in formulas}
    for n, (formula, _, days, deleted, herbs) in formulas.items():
        header = [r for r in groups[str(n)] if not _of_items(r)]
        lines = [r for r in groups[str(n)] if _of_items(r)]
        # the formula its own MedicationRequest, by name; each herb one, its grams the dose, the days its formula's
        assert [h["medicationCodeableConcept"]["text"] for h in header] == [formula]
        # one group: the formula and its herbs name the same prescription table, HANYAK_RX (was: each line its
        # own table's system, the herbs' HANYAK_RX_ITEM, so the formula and its herbs were two groups)
        [system] = {r["groupIdentifier"]["system"] for r in header + lines}
        assert system.lower() == "urn:emr-exporter:source:foreign:hanyak_rx:group"
        assert sorted((r["medicationCodeableConcept"]["text"],
                       Decimal(str(r["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"])))
                      for r in lines) == sorted((h, g) for h, g, _ in herbs)
        assert {r["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["unit"] for r in lines} == {"g"}
        for found in header + lines:
            assert found["dispenseRequest"]["expectedSupplyDuration"]["value"] == days
            assert found["subject"] == header[0]["subject"] and found["encounter"] == header[0]["encounter"]
            assert found["authoredOn"] == header[0]["authoredOn"]
            assert found["status"] == ("entered-in-error" if deleted else "unknown")
    # 원산지 a raw cell of its herb, as written
    raw = {tuple(c["key"]) if isinstance(c["key"], list) else c["key"]: c["columns"]
           for c in _lines(bag, "raw/columns/order_line_hanyak_rx_item")}
    origins = [raw_cols.get("origin_nm") for raw_cols in raw.values()]
    assert sorted(o for o in origins if o) == sorted(o for f in formulas.values() for _, _, o in f[4] if o)
