"""Commands: upload, status, store serve."""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

import click

from emr_exporter.cli import main, run_command
from emr_exporter.errors import ConfigError

_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?)(?:i?[bB](?:/s)?)?\s*$")


def parse_rate(text: str | None) -> float | None:
    """'500K', '1M', '2.5M', '1000' -> bytes per second (K/M/G = 1024 multiples, like curl)."""
    if not text:
        return None
    match = _RATE.match(text)
    if not match:
        raise ConfigError(f"--limit-rate {text!r} is not a speed. Examples: 500K, 1M, 2.5M (bytes per second).")
    number, unit = float(match.group(1)), match.group(2).upper()
    rate = number * {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}[unit]
    if rate <= 0:
        raise ConfigError("--limit-rate must be more than zero.")
    return rate


def _bundle_identity(path: Path, store_url: str) -> tuple[str, str]:
    """(bundle id, institution code): from the journal if this file was already started, else by verifying
    the bundle (which also stops a damaged file from being sent at all)."""
    from emr_exporter.upload.journal import UploadJournal, journal_path_for

    if journal_path_for(path).exists():
        size = path.stat().st_size
        for entry in UploadJournal.beside(path).entries():
            if entry.store_url == store_url and entry.size == size:
                return entry.bundle_id, ""
    from emr_exporter.bundle.reader import verify_bundle

    report = verify_bundle(path)
    return report.bundle_id, report.institution_code


def _prompt_token() -> str | None:
    if not sys.stdin.isatty():
        return None
    return click.prompt("Store login token", hide_input=True, err=True, default="", show_default=False) or None


@main.command("upload")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--store", "store_url", required=True, help="The store's upload address (https://...).")
@click.option("--limit-rate", default=None, help="Cap the upload speed, e.g. 500K or 1M (bytes per second).")
@click.option("--store-cert", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The store's certificate (PEM): pins the HTTPS connection and checks the receipt. "
                   "Default: the one shipped in resources/store/.")
@click.option("--chunk-size", default="8M", show_default=True, help="Bytes per request (e.g. 8M).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def upload_command(
    file: Path, store_url: str, limit_rate: str | None, store_cert: Path | None, chunk_size: str, as_json: bool
) -> None:
    """Send a sealed bundle to the store; run again to continue after any interruption.

    The login token is read from the environment variable EMR_EXPORTER_STORE_TOKEN, or asked for.
    """

    def run() -> None:
        from emr_exporter.upload.policy import check_store_url, resolve_store_certificate, token_from_environment
        from emr_exporter.upload.receipt import load_store_public_keys
        from emr_exporter.upload.tus import TusTransport
        from emr_exporter.upload.uploader import Uploader, UploadProgress

        check_store_url(store_url)
        if not file.is_file():
            raise ConfigError(f"The bundle file {file} does not exist.")
        rate = parse_rate(limit_rate)
        chunk = int(parse_rate(chunk_size) or 0)
        cert = resolve_store_certificate(store_cert)
        keys = load_store_public_keys(cert) if cert is not None else None
        bundle_id, institution = _bundle_identity(file, store_url)
        transport = TusTransport(store_url, verify=str(cert) if cert is not None else True,
                                 token=token_from_environment())
        last_shown = [0.0]

        def show(progress: UploadProgress) -> None:
            now = time.monotonic()
            if not as_json and (now - last_shown[0] > 1 or progress.position == progress.size):
                last_shown[0] = now
                percent = 100 * progress.position / progress.size if progress.size else 100
                click.echo(f"\r  {percent:5.1f}%  {progress.position:,} / {progress.size:,} bytes", nl=False,
                           err=True)

        uploader = Uploader(transport, store_url=store_url, store_public_keys=keys, chunk_size=chunk,
                            rate_limit_bytes_per_second=rate, on_progress=show, token_provider=_prompt_token)
        try:
            result = uploader.upload(file, bundle_id=bundle_id, institution=institution)
        finally:
            transport.close()
        if as_json:
            click.echo(json.dumps(result.as_dict(), ensure_ascii=False))
        elif result.already_uploaded:
            click.echo(f"{file.name} was already uploaded. Receipt number: {result.receipt_number}")
        else:
            click.echo("", err=True)
            click.echo(f"Uploaded {file.name}. Receipt number: {result.receipt_number}")
            click.echo(f"The signed receipt is saved in {result.receipt_path}. Keep it with your records.")

    run_command(run, as_json=as_json)


@main.command("status")
@click.argument("directory", required=False, default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
def status_command(directory: Path, as_json: bool) -> None:
    """List the bundles in DIRECTORY with their upload state."""

    def run() -> None:
        from emr_exporter.upload.journal import JOURNAL_SUFFIX, UploadJournal, find_journals

        rows: list[dict[str, Any]] = []
        journaled: set[str] = set()
        for journal_path in find_journals(directory):
            bundle_name = journal_path.name[: -len(JOURNAL_SUFFIX)]
            journaled.add(bundle_name)
            for entry in UploadJournal(journal_path).entries():
                rows.append({"bundle": bundle_name, "bundle_id": entry.bundle_id, "store": entry.store_url,
                             "state": entry.state, "bytes_confirmed": entry.offset_seen, "size": entry.size,
                             "receipt_number": entry.receipt_number, "reason": entry.reason})
        for bundle in sorted(directory.glob("*.emrx")):
            if bundle.name not in journaled:
                rows.append({"bundle": bundle.name, "bundle_id": None, "store": None, "state": "not uploaded",
                             "bytes_confirmed": 0, "size": bundle.stat().st_size, "receipt_number": None,
                             "reason": None})
        if as_json:
            click.echo(json.dumps(rows, ensure_ascii=False))
            return
        if not rows:
            click.echo(f"No bundles in {directory}.")
        for row in rows:
            percent = 100 * row["bytes_confirmed"] / row["size"] if row["size"] else 100.0
            line = f"{row['bundle']}: {row['state']}"
            if row["state"] in ("new", "sending"):
                line += f" ({percent:.1f}% confirmed by the store)"
            if row["receipt_number"]:
                line += f", receipt {row['receipt_number']}"
            if row["reason"]:
                line += f" - {row['reason']}"
            click.echo(line)

    run_command(run, as_json=as_json)


@main.group("store")
def store_group() -> None:
    """The reference store (for tests and local trials)."""


@store_group.command("serve")
@click.option("--dir", "data_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--key", "key_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The store's private key (PEM/DER); password from EMR_EXPORTER_STORE_KEY_PASSWORD.")
@click.option("--listen", default="127.0.0.1:1080", show_default=True, help="HOST:PORT to listen on.")
@click.option("--cert", "cert_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The store's certificate for --key: serve HTTPS with it.")
@click.option("--expiry-hours", default=168.0, show_default=True, help="Unfinished uploads expire after this.")
def store_serve_command(data_dir: Path, key_path: Path, listen: str, cert_path: Path | None,
                        expiry_hours: float) -> None:
    """Run the reference store: tus uploads, bundle verification, signed receipts.

    If EMR_EXPORTER_STORE_SERVE_TOKEN is set, clients must send it as their bearer token.
    """

    def run() -> None:
        from emr_exporter.bundle.keys import load_store_private_key
        from emr_exporter.upload.policy import LOOPBACK_HOSTS
        from emr_exporter.upload.store import ReferenceStore, bundle_reader_verifier, tls_context_for

        host, _, port_text = listen.rpartition(":")
        host = host.strip("[]")
        if not host or not port_text.isdigit():
            raise ConfigError(f"--listen {listen!r} should look like 127.0.0.1:1080.")
        if cert_path is None and host not in LOOPBACK_HOSTS:
            raise ConfigError("Without --cert the store speaks plain HTTP, so it only listens on 127.0.0.1.")
        password = os.environ.get("EMR_EXPORTER_STORE_KEY_PASSWORD") or None
        key = load_store_private_key(key_path, password)
        store = ReferenceStore(
            data_dir, key, verifier=bundle_reader_verifier(key, data_dir / "opened"),
            expiry_seconds=expiry_hours * 3600, token=os.environ.get("EMR_EXPORTER_STORE_SERVE_TOKEN") or None,
        )
        tls = tls_context_for(cert_path, key_path, password.encode() if password else None) if cert_path else None
        server = store.serve(host, int(port_text), tls_context=tls)
        click.echo(f"Reference store listening on {server.url} (data in {data_dir}). Ctrl+C stops it.", err=True)
        try:
            server.serve_forever()
        finally:
            server.server_close()

    run_command(run)
