"""The wizard's pages, one module per page; :mod:`.base` holds what they share.

Each page reads and writes the shared :class:`~emr_exporter.gui.session.Session`; long work goes to a
JobRunner (see :mod:`.base` for the naming rule and the signals tests wait on).
"""

from __future__ import annotations

from emr_exporter.gui.pages.base import WizardPageBase
from emr_exporter.gui.pages.done import DonePage
from emr_exporter.gui.pages.emr import EmrPage
from emr_exporter.gui.pages.export import ExportPage
from emr_exporter.gui.pages.institution import InstitutionPage
from emr_exporter.gui.pages.scan import ScanPage
from emr_exporter.gui.pages.start import StartPage
from emr_exporter.gui.pages.upload import UploadPage
from emr_exporter.gui.pages.verify import VerifyPage

__all__ = [
    "DonePage",
    "EmrPage",
    "ExportPage",
    "InstitutionPage",
    "ScanPage",
    "StartPage",
    "UploadPage",
    "VerifyPage",
    "WizardPageBase",
]
