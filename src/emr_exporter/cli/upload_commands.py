"""Commands: upload, status, store serve, store demo-certs."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from emr_exporter.cli import main, run_command
from emr_exporter.errors import ConfigError

if TYPE_CHECKING:
    from emr_exporter.jobs.upload import UploadResult

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


def _prompt_token() -> str | None:
    if not sys.stdin.isatty():
        return None
    return click.prompt("Store login token", hide_input=True, err=True, default="", show_default=False) or None


def parse_chunk_size(text: str) -> int | None:
    """'auto' (sized to the link) or a byte count like 8M."""
    if text.strip().lower() == "auto":
        return None
    return int(parse_rate(text) or 0) or None


@main.command("upload")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--store", "store_url", required=True, help="The store's upload address (https://...).")
@click.option("--limit-rate", default=None, help="Cap the upload speed, e.g. 500K or 1M (bytes per second).")
@click.option("--store-cert", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The store's certificate (PEM): pins the HTTPS connection (and checks the receipt unless "
                   "--receipt-cert is given). Default: the one shipped in resources/store/.")
@click.option("--receipt-cert", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The store's receipt-signing certificate (PEM): receipts must be signed by it. "
                   "Default: the --store-cert file.")
@click.option("--chunk-size", default="auto", show_default=True,
              help="Bytes per request (e.g. 8M), or auto: a few seconds of the measured link, 256K to 32M.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def upload_command(
    file: Path, store_url: str, limit_rate: str | None, store_cert: Path | None, receipt_cert: Path | None,
    chunk_size: str, as_json: bool,
) -> None:
    """Send a sealed bundle to the store; run again to continue after any interruption.

    Works with any tus 1.0 store. Exit code 0: the store signed a receipt; 4: stored, unconfirmed (the store
    holds every byte but gives no receipt). The login token is read from the environment variable
    EMR_EXPORTER_STORE_TOKEN, or asked for.
    """
    from emr_exporter.cli.progress import Progress
    from emr_exporter.jobs.upload import STORED_UNCONFIRMED_EXIT, UploadRequest, describe_result, run_upload

    progress = Progress(f"upload {file.name}", unit="bytes", mode="off" if as_json else "auto")

    def run() -> UploadResult:
        request = UploadRequest(bundle=file, store_url=store_url, store_cert=store_cert, receipt_cert=receipt_cert,
                                chunk_size=parse_chunk_size(chunk_size), rate_limit=parse_rate(limit_rate))
        try:
            return run_upload(request, on_progress=lambda p: progress.update(p.position, p.size),
                              token_prompt=_prompt_token)
        finally:
            progress.close()

    result = run_command(run, as_json=as_json)
    if as_json:
        click.echo(json.dumps(result.as_dict(), ensure_ascii=False))
    else:
        for line in describe_result(file.name, result):
            click.echo(line)
    if result.unconfirmed:
        sys.exit(STORED_UNCONFIRMED_EXIT)


def status_line(row: dict[str, Any]) -> str:
    state = "stored, unconfirmed (the store holds every byte but gives no receipt)" if row["state"] == "stored" \
        else row["state"]
    line = f"{row['bundle']}: {state}"
    if row["store"]:
        line += f" at {row['store']}"
    if row["state"] in ("new", "sending"):
        percent = 100 * row["bytes_confirmed"] / row["size"] if row["size"] else 100.0
        line += f" ({percent:.1f}% confirmed by the store)"
    if row["receipt_number"]:
        line += f", receipt {row['receipt_number']}"
    if row["reason"]:
        line += f" - {row['reason']}"
    return line


@main.command("status")
@click.argument("directory", required=False, default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
def status_command(directory: Path, as_json: bool) -> None:
    """List the bundles in DIRECTORY with their upload state (one line each: the best-known state and store)."""

    def run() -> None:
        from emr_exporter.jobs.upload import bundle_status_rows

        rows = bundle_status_rows(directory)
        if as_json:
            click.echo(json.dumps(rows, ensure_ascii=False))
            return
        if not rows:
            click.echo(f"No bundles in {directory}.")
        for row in rows:
            click.echo(status_line(row))

    run_command(run, as_json=as_json)


@main.group("store")
def store_group() -> None:
    """The reference store (for tests and local trials)."""


@store_group.command("serve")
@click.option("--dir", "data_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--key", "key_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The store's encryption private key (opens bundles; PEM/DER); password from "
                   "EMR_EXPORTER_STORE_KEY_PASSWORD.")
@click.option("--receipt-key", "receipt_key_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The key receipts are signed with (Ed25519/EC/RSA). Default: --key (trials only).")
@click.option("--listen", default="127.0.0.1:1080", show_default=True, help="HOST:PORT to listen on.")
@click.option("--tls-cert", "tls_cert_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Serve HTTPS with this server certificate (PEM, with the host in subjectAltName).")
@click.option("--tls-key", "tls_key_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The private key of --tls-cert.")
@click.option("--expiry-hours", default=168.0, show_default=True, help="Unfinished uploads expire after this.")
def store_serve_command(data_dir: Path, key_path: Path, receipt_key_path: Path | None, listen: str,
                        tls_cert_path: Path | None, tls_key_path: Path | None, expiry_hours: float) -> None:
    """Run the reference store: tus uploads, bundle verification, signed receipts.

    If EMR_EXPORTER_STORE_SERVE_TOKEN is set, clients must send it as their bearer token.
    `emr-export store demo-certs` writes a demo TLS certificate and receipt key for trials on this PC.
    """

    def run() -> None:
        from emr_exporter.jobs.upload import StoreServeRequest, open_reference_store

        host, _, port_text = listen.rpartition(":")
        host = host.strip("[]")
        if not host or not port_text.isdigit():
            raise ConfigError(f"--listen {listen!r} should look like 127.0.0.1:1080.")
        server = open_reference_store(StoreServeRequest(
            data_dir=data_dir, key_path=key_path, receipt_key_path=receipt_key_path, host=host, port=int(port_text),
            tls_cert=tls_cert_path, tls_key=tls_key_path, expiry_hours=expiry_hours,
        ))
        click.echo(f"Reference store listening on {server.url} (data in {data_dir}). Ctrl+C stops it.", err=True)
        if receipt_key_path is None:
            click.echo("Receipts are signed with the encryption key (--key); a real store uses --receipt-key.",
                       err=True)
        try:
            server.serve_forever()
        finally:
            server.server_close()

    run_command(run)


@store_group.command("demo-certs")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the demo files (e.g. the demo-keys folder of `emr-export demo`).")
@click.option("--json", "as_json", is_flag=True, help="Print the file paths as JSON.")
def store_demo_certs_command(out_dir: Path, as_json: bool) -> None:
    """Write DEMO-ONLY store certificates: a TLS server pair for 127.0.0.1/localhost and a receipt-signing pair."""

    def run() -> None:
        from emr_exporter.jobs.upload import make_demo_store_certificates

        keys = make_demo_store_certificates(out_dir)
        paths = {"tls_cert": str(keys.tls_cert), "tls_key": str(keys.tls_key),
                 "receipt_cert": str(keys.receipt_cert), "receipt_key": str(keys.receipt_key)}
        if as_json:
            click.echo(json.dumps(paths, ensure_ascii=False))
        else:
            click.echo(f"Demo store certificates (NOT for real records) written to {out_dir}:")
            for label, path in paths.items():
                click.echo(f"  {label}: {path}")

    run_command(run, as_json=as_json)
