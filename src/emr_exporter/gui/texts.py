"""Translatable texts shared by several pages: record types, quarantine reasons, error summaries.

``QCoreApplication.translate`` with literal strings, so that ``pyside6-lupdate`` finds every one of them.
Core error messages are English sentences for the CLI; the wizard shows a translated summary first and
the core's exact message under it.
"""

from __future__ import annotations

from emr_exporter import errors
from emr_exporter.gui.qt import QCoreApplication, QLocale


def _t(text: str) -> str:
    return QCoreApplication.translate("Texts", text)


def entity_name(entity: str) -> str:
    names = {
        "practitioner": _t("Doctors and staff"),
        "patient": _t("Patients"),
        "encounter": _t("Visits"),
        "diagnosis": _t("Diagnoses"),
        "chart_note": _t("Chart notes"),
        "order_line": _t("Orders and prescriptions"),
        "procedure": _t("Procedures"),
        "lab_result": _t("Lab results"),
        "imaging_report": _t("Imaging reports"),
        "certificate": _t("Certificates issued"),
        "receipt": _t("Receipts"),
        "fee_line": _t("Fee details"),
        "attachment": _t("Attached files"),
    }
    return names.get(entity, entity)


def reason_text(code: str) -> str:
    reasons = {
        "orphan": _t("refers to a record that does not exist"),
        "duplicate": _t("repeats another record's number"),
        "invalid-date": _t("has an impossible date"),
        "required-missing": _t("a required value is empty"),
        "bad-encoding": _t("text that cannot be read (damaged characters)"),
        "lossy-text": _t("text that would lose characters"),
        "file-missing": _t("the attached file is missing"),
        "file-unreadable": _t("the attached file cannot be read"),
        "path-outside-root": _t("the file is outside the attachments folder"),
        "null-key": _t("the record has no number"),
        "invalid-number": _t("a number that is not valid"),
        "unmapped-code": _t("a code the EMR connector does not know"),
        "invalid-bool": _t("a yes/no value that is not valid"),
        "invalid-blob": _t("stored data that is not valid"),
        "mapping": _t("cannot be written in the national format"),
    }
    return reasons.get(code, code)


def error_summary(error: BaseException) -> str:
    """One translated sentence saying what went wrong and what to do."""
    message = str(error)
    if isinstance(error, errors.CertificateError):
        if message.startswith("Wrong password"):
            return _t("The certificate password is wrong. Type it again (capital letters matter).")
        if "expired" in message:
            return _t("This certificate has expired. Renew the institution's certificate (공동인증서) and load it.")
        if "not valid yet" in message:
            return _t("This certificate is not valid yet. Check the computer's date and time.")
        return _t("This certificate cannot be used for signing.")
    if isinstance(error, errors.SourceUnavailable):
        return _t("The EMR database cannot be opened. Check the file or the connection details.")
    if isinstance(error, errors.SourceError):
        return _t("Reading the EMR database failed.")
    if isinstance(error, errors.ExportCancelled):
        return _t("Stopped. Nothing is lost: press Start to continue where it stopped.")
    if isinstance(error, errors.UploadCancelled):
        return _t("Upload paused. Press Resume to continue from where it stopped.")
    if isinstance(error, errors.TransportError):
        return _t("The upload did not succeed. The file is safe on this PC; try again later or carry it.")
    if isinstance(error, errors.BundleError):
        return _t("The sealed file did not pass the check. Do not send it; export again.")
    if isinstance(error, errors.ConfigError):
        return _t("A setting is missing or wrong.")
    if isinstance(error, errors.EmrExporterError):
        return _t("The step did not finish.")
    return _t("An unexpected problem occurred. Please send the details below to your IT contractor.")


def number(value: int) -> str:
    return QLocale().toString(int(value))


def data_size(value: int) -> str:
    return QLocale().formattedDataSize(int(value))


def duration(seconds: float) -> str:
    seconds = max(0, int(seconds + 0.5))
    if seconds < 60:
        return QCoreApplication.translate("Texts", "%n s", "", seconds)
    minutes = (seconds + 59) // 60
    if minutes < 120:
        return QCoreApplication.translate("Texts", "%n min", "", minutes)
    return QCoreApplication.translate("Texts", "%n h", "", (minutes + 59) // 60)
