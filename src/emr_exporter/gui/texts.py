"""Translatable texts shared by several pages: record types, quarantine reasons, error summaries.

``QCoreApplication.translate`` with literal strings, so that ``pyside6-lupdate`` finds every one of them.
Core error messages are English sentences for the CLI; the wizard shows a translated summary first and
the core's exact message under it.
"""

from __future__ import annotations

from typing import Any

from emr_exporter import errors
from emr_exporter.gui.qt import QCoreApplication, QLocale


def entity_name(entity: str) -> str:
    names = {
        "practitioner": QCoreApplication.translate("Texts", "Doctors and staff"),
        "patient": QCoreApplication.translate("Texts", "Patients"),
        "encounter": QCoreApplication.translate("Texts", "Visits"),
        "diagnosis": QCoreApplication.translate("Texts", "Diagnoses"),
        "chart_note": QCoreApplication.translate("Texts", "Chart notes"),
        "order_line": QCoreApplication.translate("Texts", "Orders and prescriptions"),
        "procedure": QCoreApplication.translate("Texts", "Procedures"),
        "lab_result": QCoreApplication.translate("Texts", "Lab results"),
        "imaging_report": QCoreApplication.translate("Texts", "Imaging reports"),
        "certificate": QCoreApplication.translate("Texts", "Certificates issued"),
        "receipt": QCoreApplication.translate("Texts", "Receipts"),
        "fee_line": QCoreApplication.translate("Texts", "Fee details"),
        "attachment": QCoreApplication.translate("Texts", "Attached files"),
        "nursing_note": QCoreApplication.translate("Texts", "Nursing records"),
        "allergy": QCoreApplication.translate("Texts", "Allergies and adverse reactions"),
        "immunization": QCoreApplication.translate("Texts", "Vaccinations"),
        "vital_signs": QCoreApplication.translate("Texts", "Vital signs"),
        "coverage": QCoreApplication.translate("Texts", "Insurance coverage periods"),
        "medication_statement": QCoreApplication.translate("Texts", "Medication list"),
        "lab_report": QCoreApplication.translate("Texts", "Lab reports"),
        "payment": QCoreApplication.translate("Texts", "Payments (card, cash)"),
        "appointment": QCoreApplication.translate("Texts", "Appointments (bookings)"),
    }
    return names.get(entity, entity)


def section_name(section: str, kind: str = "") -> str:
    """A section's line on the scan and check pages: its record type in the founder's words, named as the transfer
    report names it (``jobs.report.name_section``): a section named otherwise than its type (``vital_weight`` of
    ``vital_signs``) is its type's name with the section's own name quoted after it ("활력징후 (“vital_weight”)")."""
    from emr_exporter.jobs.report import name_section

    return name_section(section, kind, entity_name, QCoreApplication.translate("Texts", "{kind} (“{section}”)"))


def reading_what(stage: str, name: str, kinds: dict[str, str]) -> str:
    """What a scan or export progress event is reading: a section by its record type (``section_name``), a table
    carried as it is (stage ``carry``) as the EMR's table, quoted."""
    if stage == "carry":
        return QCoreApplication.translate("Texts", "the EMR's table “{table}”").format(table=name)
    return section_name(name, kinds.get(name, ""))


def carried_section(table: str, reason: str) -> str:
    """A carried section's line (``carry = "…"``): rows of an EMR table no record type fits, kept exactly as they
    are, with the connector's reason: in the founder's words where the reason is one the scaffold writes,
    else quoted (the contractor's words, as written)."""
    from emr_exporter.jobs.authoring import OTHER_REASON

    if reason == OTHER_REASON:
        return QCoreApplication.translate(
            "Texts", "Part of the EMR's table “{table}”, kept exactly as it is (why: measurements that are neither "
            "vital signs nor lab results, kept as they were written)").format(table=table)
    return QCoreApplication.translate(
        "Texts", "Part of the EMR's table “{table}”, kept exactly as it is (why: “{reason}”)"
    ).format(table=table, reason=reason)


def reason_text(code: str) -> str:
    reasons = {
        "orphan": QCoreApplication.translate("Texts", "refers to a record that does not exist"),
        "duplicate": QCoreApplication.translate("Texts", "repeats another record's number"),
        "invalid-date": QCoreApplication.translate("Texts", "has an impossible date"),
        "required-missing": QCoreApplication.translate("Texts", "a required value is empty"),
        "bad-encoding": QCoreApplication.translate("Texts", "text that cannot be read (damaged characters)"),
        "lossy-text": QCoreApplication.translate("Texts", "text that would lose characters"),
        "file-missing": QCoreApplication.translate("Texts", "the attached file is missing"),
        "file-unreadable": QCoreApplication.translate("Texts", "the attached file cannot be read"),
        "path-outside-root": QCoreApplication.translate("Texts", "the file is outside the attachments folder"),
        "null-key": QCoreApplication.translate("Texts", "the record has no number"),
        "invalid-number": QCoreApplication.translate("Texts", "a number that is not valid"),
        "unmapped-code": QCoreApplication.translate("Texts", "a code the EMR connector does not know"),
        "invalid-bool": QCoreApplication.translate("Texts", "a yes/no value that is not valid"),
        "invalid-blob": QCoreApplication.translate("Texts", "stored data that is not valid"),
        "mapping": QCoreApplication.translate("Texts", "cannot be written in the national format"),
    }
    if code in reasons:
        return reasons[code]
    # Codes the wizard has no sentence of its own for (e.g. ambiguous-key, control-characters): the
    # transfer report's wording, in the wizard's language, so a raw code never reaches the founder.
    from emr_exporter.jobs.report import reason_name

    return reason_name(code, language())


def language() -> str:
    """The wizard's language for the core's own wording: "ko" or "en"."""
    return "ko" if QLocale().language() == QLocale.Language.Korean else "en"


def set_aside(reconciliation: Any, kinds: dict[str, str]) -> str:
    """What was set aside and why (무엇이 따로 보관되었나요), one line per reason, in the core's words
    (``jobs.report.set_aside_text``: the command line prints the same), each section named as on these pages."""
    from emr_exporter.jobs.report import set_aside_text

    return set_aside_text(reconciliation, language(),
                          lambda section, kind: section_name(section, kinds.get(section, kind)))


def step_name(step: str) -> str:
    steps = {
        "institution": QCoreApplication.translate("Texts", "institution"),
        "emr": QCoreApplication.translate("Texts", "EMR"),
        "scan": QCoreApplication.translate("Texts", "scan"),
        "export": QCoreApplication.translate("Texts", "export"),
        "verify": QCoreApplication.translate("Texts", "check"),
        "upload": QCoreApplication.translate("Texts", "sending"),
        "done": QCoreApplication.translate("Texts", "done"),
    }
    return steps.get(step, step)


def error_summary(error: BaseException) -> str:
    """One translated sentence saying what went wrong and what to do."""
    message = str(error)
    if isinstance(error, errors.CertificateError):
        if message.startswith("Wrong password"):
            return QCoreApplication.translate(
                "Texts", "The certificate password is wrong. Type it again (capital letters matter)."
            )
        if "expired" in message:
            return QCoreApplication.translate(
                "Texts", "This certificate has expired. Renew the institution's certificate (공동인증서) and load it."
            )
        if "not valid yet" in message:
            return QCoreApplication.translate(
                "Texts", "This certificate is not valid yet. Check the computer's date and time."
            )
        return QCoreApplication.translate("Texts", "This certificate cannot be used for signing.")
    if isinstance(error, errors.SourceStalled):
        return " ".join(filter(None, (stalled(error.reason), kept_or_not(error))))
    if isinstance(error, errors.SourceUnavailable) and error.reason:
        refused = connection_refused(error.reason)
        if refused:
            return refused
    if isinstance(error, errors.SourceUnavailable):
        return QCoreApplication.translate(
            "Texts", "The EMR database cannot be opened. Check the file or the connection details."
        )
    if isinstance(error, errors.SourcePermissionDenied):
        return QCoreApplication.translate(
            "Texts", "This EMR account is not allowed to read part of the records. Ask your IT contractor or the "
            "EMR company to allow it to read everything, then start again."
        )
    if isinstance(error, errors.SourceError):
        return QCoreApplication.translate("Texts", "Reading the EMR database failed.")
    if isinstance(error, errors.ExportCancelled):
        return " ".join(filter(None, (QCoreApplication.translate("Texts", "Stopped."), kept_or_not(error))))
    if isinstance(error, errors.StoreFailing):
        return QCoreApplication.translate(
            "Texts", "The store keeps reporting an error, so sending stopped: trying again will not fix it. The "
            "file is safe on this PC. Tell the store's help desk the message below."
        )
    if isinstance(error, errors.StoreStillChecking):
        return QCoreApplication.translate(
            "Texts", "The store has received the whole file and is still checking it. Nothing needs to be sent "
            "again: press Resume later to get the receipt."
        )
    if isinstance(error, errors.UploadCancelled):
        return QCoreApplication.translate("Texts", "Upload paused. Press Resume to continue from where it stopped.")
    if isinstance(error, errors.TransportError):
        return QCoreApplication.translate(
            "Texts", "The upload did not succeed. The file is safe on this PC; try again later or carry it."
        )
    if isinstance(error, errors.BundleError):
        return QCoreApplication.translate(
            "Texts", "The sealed file did not pass the check. Do not send it; export again."
        )
    if isinstance(error, errors.ConfigError):
        return QCoreApplication.translate("Texts", "A setting is missing or wrong.")
    if isinstance(error, errors.EmrExporterError):
        return QCoreApplication.translate("Texts", "The step did not finish.")
    return QCoreApplication.translate(
        "Texts", "An unexpected problem occurred. Please send the details below to your IT contractor."
    )


def kept_or_not(error: BaseException) -> str:
    """After an export's Stop or stall: what is on disk and what Start export does next (the core's
    ``kept_partial``); "" for another job's (a scan writes nothing)."""
    kept = getattr(error, "kept_partial", None)
    if kept is None:
        return ""
    if kept:
        return QCoreApplication.translate(
            "Texts", "The part already exported is kept in the chosen folder: press Start export with the same "
            "folder and it continues where it stopped. Do not delete the files in that folder.")
    return QCoreApplication.translate(
        "Texts", "Nothing was written to the folder yet: press Start export and it starts from the beginning.")


def stalled(reason: str) -> str:
    """What to check when the EMR's database server stopped answering in the middle of the work (sources/waiting.py's
    verdicts: a table locked by another program, an answer stuck in the network, no answer at all)."""
    if reason == "locked":
        return QCoreApplication.translate(
            "Texts", "The EMR's database server stopped answering: another program (often the EMR program itself) "
            "keeps part of the records locked. Close the EMR program on every PC, then try again. Nothing "
            "is lost.")
    if reason in ("answer-stuck", "gone"):
        return QCoreApplication.translate(
            "Texts", "The EMR's database server stopped answering: its answer does not arrive through the network. "
            "Check the cable, Wi-Fi or VPN to the PC where the EMR's database runs, then try again. Nothing "
            "is lost.")
    return QCoreApplication.translate(
        "Texts", "The EMR's database server stopped answering. Check that the PC where the EMR's database runs is "
        "switched on and the EMR program works there, and the network to it, then try again. Nothing is "
        "lost.")


def connection_refused(reason: str) -> str:
    """What to do when the EMR's database refused the connection, by the core's problem kind ("" if none fits)."""
    reasons = {
        "login-failed": QCoreApplication.translate(
            "Texts", "The database did not accept the account name or the password. Type the database password "
            "again (capital letters matter). If it still fails, ask your IT contractor for the account name and "
            "password."),
        "server-unreachable": QCoreApplication.translate(
            "Texts", "The EMR server PC does not answer: it may be switched off, or the network to it is down. Check "
            "that the EMR server PC is switched on and connected to the network (cable or Wi-Fi), then try again. "
            "If it still fails, ask your IT contractor to check the server's name and port."),
        "server-refused": QCoreApplication.translate(
            "Texts", "The EMR server PC is on, but its EMR database does not take the connection: the database is "
            "not running (or still starting), or the port is wrong. Check that the EMR program works on the EMR "
            "server PC (if it does not, restart that PC), then try again. If it still fails, ask your IT "
            "contractor to check the server's port."),
        "timeout": QCoreApplication.translate(
            "Texts", "The EMR server PC took the connection, but its EMR database did not answer in time: it may be "
            "stuck or very busy. Wait a moment and try again. If it keeps happening, restart the EMR server PC, or "
            "ask your IT contractor to check the server's name and port."),
        "database-not-found": QCoreApplication.translate(
            "Texts", "The database server answered, but it has no database with that name. Ask your IT contractor "
            "or the EMR company for the database's exact name."),
        "driver-not-found": QCoreApplication.translate(
            "Texts", "The program this PC needs to reach that kind of database (its driver) is not installed. Ask "
            "your IT contractor to install it."),
        "dsn-not-found": QCoreApplication.translate(
            "Texts", "That EMR connection is not set up in Windows on this PC. Ask your IT contractor to set it up."),
        "architecture-mismatch": QCoreApplication.translate(
            "Texts", "The EMR connection set up in Windows does not fit this program (32-bit or 64-bit). Ask your IT "
            "contractor to set it up again."),
    }
    return reasons.get(reason, "")


def number(value: int) -> str:
    return QLocale().toString(int(value))


def data_size(value: int) -> str:
    """MB/GB as on USB sticks and in Windows' "properties" (decimal), never MiB/GiB."""
    return QLocale().formattedDataSize(int(value), 1, QLocale.DataSizeFormat.DataSizeSIFormat)


def retry_reason(error: str) -> str:
    """Why the upload is retrying, in the founder's words (the core's message is English, for the CLI)."""
    import re

    status = re.search(r"answered (\d{3})", error)
    if status:
        return QCoreApplication.translate("Texts", "the store reported an error ({status})").format(
            status=status.group(1))
    if "did not answer in time" in error:
        return QCoreApplication.translate("Texts", "the store did not answer in time")
    if "without answering" in error:
        return QCoreApplication.translate("Texts", "the store closed the connection without answering")
    return QCoreApplication.translate("Texts", "the connection to the store failed (check the internet)")


def duration(seconds: float) -> str:
    seconds = max(0, int(seconds + 0.5))
    if seconds < 60:
        return QCoreApplication.translate("Texts", "%n s", "", seconds)
    minutes = (seconds + 59) // 60
    if minutes < 120:
        return QCoreApplication.translate("Texts", "%n min", "", minutes)
    return QCoreApplication.translate("Texts", "%n h", "", (minutes + 59) // 60)
