"""Korean Standard Time has one definition (model.KST): the FHIR mapper's clinic time, the connectors' Asia/Seoul
and the transfer report's dates are that object, so what each writes cannot drift apart."""

from __future__ import annotations

import datetime as dt

from emr_exporter import model
from emr_exporter.connectors import zones
from emr_exporter.pipeline import fhir
from emr_exporter.reports import transfer


def test_one_kst_everywhere() -> None:
    assert fhir.KST is transfer.KST is zones.KST is model.KST
    assert zones.zone("Asia/Seoul") is zones.zone("KST") is zones.zone("+09:00") is model.KST
    moment = dt.datetime(2026, 12, 1, 23, 40, tzinfo=dt.UTC).astimezone(model.KST)
    assert (moment.isoformat(), moment.tzname()) == ("2026-12-02T08:40:00+09:00", "KST")
    assert transfer.kst_datetime(dt.datetime(2026, 12, 1, 23, 40, tzinfo=dt.UTC), "ko") == "2026년 12월 2일 08:40 (한국 시각)"
