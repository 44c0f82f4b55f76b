"""The one exception tree of emr-exporter.

Every error a user can meet is an ``EmrExporterError``. Its message is written for the person who
has to act on it (a clinic founder or an IT contractor): what went wrong and what to do next.
Messages never contain patient data, resident registration numbers, passwords or keys; they name
files, settings, tables and row keys instead.

    EmrExporterError
    ├── ConfigError                 bad command-line option, setting or environment
    │   └── SignerMismatchError     the signing certificate belongs to another institution
    ├── ConnectorError
    │   ├── ConnectorSpecError      a connector.toml that is not valid (names file, line, field)
    │   └── ConnectorNotFound
    ├── SourceError                 the clinic database
    │   ├── SourceUnavailable       cannot connect / driver missing / login failed
    │   │   └── SourceStalled       the server stopped answering mid-query (bounded wait, docs/databases.md)
    │   └── SourceQueryError        a query failed while reading
    │       └── SourceConnectionLost    the connection dropped mid-export (retried from the checkpoint)
    ├── ExportError                 the export pipeline
    │   ├── ExportCancelled
    │   ├── ReconciliationError     a row would have been lost (never expected; a bug guard)
    │   └── MappingError            one record cannot become FHIR (the row is quarantined, not lost)
    ├── CryptoError
    │   ├── CertificateError        wrong password, expired, no signing key usage, key mismatch
    │   └── BundleError             a sealed bundle that does not verify (names the attack)
    └── TransportError              upload
        ├── RetryableTransportError timeouts, 429, 5xx
        │   └── StoreStillChecking  every byte is in; the store's check outlasted the wait (run again later)
        ├── StoreFailing            the store is reached but fails on every request
        ├── RejectedByStore         the store refused the bundle
        └── UploadCancelled         the user cancelled the upload (resumable)
"""

from __future__ import annotations

import traceback
from pathlib import Path

#: Set to 1 to see an unexpected error's full traceback and message (they may contain patient data).
DEBUG_ENV = "EMR_EXPORTER_DEBUG"


class EmrExporterError(Exception):
    """Base of every error emr-exporter raises on purpose."""

    #: A short, stable machine-readable code (shown in --json output, used by tests).
    code: str = "error"
    #: Process exit code used by the CLI for this class of error.
    exit_code: int = 1
    #: After an export was cancelled or stopped (jobs/service.py, ``after_interruption``): the unfinished bundle
    #: (``<name>.emrx.partial``) kept on disk that the next run of the same export continues; "" when nothing was
    #: kept (a dry run, or stopped before the bundle was started); None when not an export's (a scan's, a test's).
    kept_partial: str | None = None


class ConfigError(EmrExporterError):
    """A setting or option is missing or wrong."""

    code = "config"
    exit_code = 2


class SignerMismatchError(ConfigError):
    """The signing certificate names another institution than the one the bundle is labelled with."""

    code = "signer-mismatch"

    def __init__(self, message: str, check: object = None) -> None:
        super().__init__(message)
        #: The :class:`emr_exporter.bundle.signer_check.SignerCheck` (status, evidence) for callers.
        self.check = check


class ConnectorError(EmrExporterError):
    """A problem with a connector."""

    code = "connector"


class ConnectorSpecError(ConnectorError):
    """A connector.toml is not valid; the message names the file, line and field."""

    code = "connector-spec"

    def __init__(self, path: str, field: str, problem: str, line: int | None = None) -> None:
        self.path = path
        self.field = field
        self.problem = problem
        self.line = line
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {field}: {problem}")


class ConnectorNotFound(ConnectorError):
    """No installed connector has that name."""

    code = "connector-not-found"


class SourceError(EmrExporterError):
    """A problem with the clinic database."""

    code = "source"


class SourceUnavailable(SourceError):
    """The clinic database cannot be opened."""

    code = "source-unavailable"

    def __init__(self, message: str, reason: str = "") -> None:
        super().__init__(message)
        #: Why, when a connection was refused: a problem kind of :mod:`emr_exporter.sources.connect`
        #: (``login-failed``, ``server-unreachable``, ``server-refused``, ``timeout``, ``database-not-found``...), so
        #: that a front end can say what to do in its own words; "" when not known.
        self.reason = reason


class SourceQueryError(SourceError):
    """A query against the clinic database failed."""

    code = "source-query"


class SourcePermissionDenied(SourceQueryError):
    """The database account may not read a table (or a column) the export needs to read."""

    code = "source-permission"


class SourceConnectionLost(SourceQueryError):
    """The connection to the clinic database dropped; the export reconnects and resumes its page."""

    code = "source-connection-lost"


class SourceStalled(SourceUnavailable):
    """The clinic database server stopped answering in the middle of a query (a hung server, a stalling network,
    a table locked by another program): the export stopped instead of waiting for ever; nothing was lost."""

    code = "source-stalled"


class ExportError(EmrExporterError):
    """The export could not finish."""

    code = "export"


class ExportCancelled(ExportError):
    """The user cancelled the export; nothing was lost, it can be run again."""

    code = "cancelled"
    exit_code = 130


#: What :class:`ExportCancelled` says where it is raised (between pages, in a waiting query); the export job
#: (jobs/service.py, ``after_interruption``) replaces it by what is really on disk and what the next run does.
EXPORT_CANCELLED_MESSAGE = "The export was cancelled."


class ReconciliationError(ExportError):
    """Source rows and exported + quarantined rows do not add up."""

    code = "reconciliation"


class MappingError(ExportError):
    """One canonical record cannot be written as FHIR; names the table, key and field, never values."""

    code = "mapping"


class CryptoError(EmrExporterError):
    """Signing, encryption or key handling failed."""

    code = "crypto"


class CertificateError(CryptoError):
    """A certificate or private key cannot be used."""

    code = "certificate"


class BundleError(CryptoError):
    """A sealed bundle failed verification."""

    code = "bundle"


class TransportError(EmrExporterError):
    """Uploading to the store failed."""

    code = "transport"


class RetryableTransportError(TransportError):
    """A temporary upload failure (timeout, 429, 5xx); retrying may succeed."""

    code = "transport-retryable"


class StoreStillChecking(RetryableTransportError):
    """The store holds every byte and was still checking the bundle when the wait ran out: a later run collects
    the receipt without sending anything again."""

    code = "store-still-checking"


class StoreFailing(TransportError):
    """The store is reached but fails on every request (a broken store): retrying was given up within minutes."""

    code = "store-failing"


class RejectedByStore(TransportError):
    """The store refused the bundle."""

    code = "rejected-by-store"


class UploadCancelled(TransportError):
    """The user cancelled the upload; what the store holds is kept and the next run continues."""

    code = "cancelled"
    exit_code = 130


class InternalError(EmrExporterError):
    """A bug: an unexpected exception, shown without its text (which may quote patient data)."""

    code = "internal"

    @classmethod
    def from_exception(cls, exc: BaseException, how_to_see_details: str = "") -> InternalError:
        return cls(unexpected_error_text(exc, how_to_see_details))


def unexpected_error_text(exc: BaseException, how_to_see_details: str = "") -> str:
    """An unexpected error's type and where it happened, without its message."""
    frames = traceback.extract_tb(exc.__traceback__)[-3:]
    where = "; ".join(f"{Path(f.filename).name}:{f.lineno} in {f.name}" for f in reversed(frames))
    details = how_to_see_details or f"to see them, run it again with {DEBUG_ENV}=1 and do not share the output"
    return (
        f"an unexpected problem ({type(exc).__name__}) stopped emr-exporter at {where or 'an unknown place'}. "
        f"This is a bug: please report these lines. The details are not shown because they may contain "
        f"patient data; {details}."
    )
