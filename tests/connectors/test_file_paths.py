"""Stored attachment paths a real EMR can hold: those the file system refuses quarantine the row; absolute ones
(POSIX, Windows drive, UNC) are read inside the attachment root, directly or through ``stored_prefixes``."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import shutil
import sqlite3
import tarfile
from pathlib import Path, PurePosixPath, PureWindowsPath

import pytest

from emr_exporter import model
from emr_exporter.connectors import load_connector, load_spec
from emr_exporter.connectors.spec import ConnectorSpec, FieldSpec
from emr_exporter.connectors.transforms import TRANSFORMS, RowRejected, TransformContext
from emr_exporter.errors import ConnectorSpecError
from emr_exporter.pipeline.export import ExportRun, read_institution
from emr_exporter.sources.base import SqliteFileSource


@pytest.mark.parametrize(
    ("stored", "code"),
    [
        ("2024/a\x00.pdf", "file-missing"),  # NUL: os calls raise ValueError
        ("2024/" + "가" * 200 + ".pdf", "file-unreadable"),  # a name longer than the file system allows
        ("2024/" + "a/" * 3000 + "b.pdf", "file-unreadable"),  # a path longer than PATH_MAX
        ("\\\\server\\share\\a.pdf", "path-outside-root"),  # Windows UNC path
    ],
)
def test_unusable_stored_paths_quarantine_the_row(tmp_path: Path, stored: str, code: str) -> None:
    root = tmp_path / "att"
    (root / "2024").mkdir(parents=True)
    ctx = TransformContext(spec=load_connector("demo"), attachments_root=root)
    with pytest.raises(RowRejected) as caught:
        TRANSFORMS["file"](stored, FieldSpec(name="content_path", type="file"), ctx)
    assert caught.value.reason_code == code
    assert "가" not in caught.value.reason and "a.pdf" not in caught.value.reason


# --- absolute stored paths: inside the root, and through [attachments] stored_prefixes ----------------------

OUTSIDE = "field 'content_path' points outside the attachment folder"
MISSING = "field 'content_path': the attachment file does not exist"
NUL = "field 'content_path': the stored file name contains a NUL character"
FIELD = FieldSpec(name="content_path", type="file")


def _spec_with_prefixes(tmp_path: Path, prefixes: str) -> ConnectorSpec:
    """The demo connector's connector.toml with ``[attachments] stored_prefixes = <prefixes>`` (TOML as written)."""
    folder = tmp_path / "conn" / "demo"
    shutil.copytree(Path(load_connector("demo").path), folder)
    toml = folder / "connector.toml"
    text = toml.read_text(encoding="utf-8")
    assert text.count('[attachments]\nroot = "attachments"\n') == 1
    toml.write_text(text.replace('[attachments]\nroot = "attachments"\n',
                                 f'[attachments]\nroot = "attachments"\nstored_prefixes = {prefixes}\n'), encoding="utf-8")
    return load_spec(folder)


def _refused(stored: str, ctx: TransformContext) -> tuple[str, str]:
    with pytest.raises(RowRejected) as caught:
        TRANSFORMS["file"](stored, FIELD, ctx)
    return caught.value.reason_code, caught.value.reason


def test_a_posix_absolute_path_inside_the_root_is_read(tmp_path: Path) -> None:
    real = tmp_path / "real-att"
    (real / "2024").mkdir(parents=True)
    (real / "2024" / "a.pdf").write_bytes(b"%PDF-1.4 a")
    (tmp_path / "secret.txt").write_text("x")
    root = tmp_path / "att"
    root.symlink_to(real)  # the folder chosen is a link: the EMR may have written either spelling
    ctx = TransformContext(spec=load_connector("demo"), attachments_root=root)
    expected = str((real / "2024" / "a.pdf").resolve())
    for stored in (f"{root}/2024/a.pdf", f"{real}/2024/a.pdf", f"{real}//2024/./a.pdf", f"{root}\\2024\\a.pdf"):
        assert TRANSFORMS["file"](stored, FIELD, ctx) == expected, stored
    # Nothing else loosens: outside the root, '..' (even one that comes back in), a link out, a missing file.
    (real / "link.pdf").symlink_to(tmp_path / "secret.txt")
    for stored in (f"{tmp_path}/secret.txt", f"{real}/../secret.txt", f"{real}/2024/../2024/a.pdf",
                   f"{real}/link.pdf", f"{real}-other/2024/a.pdf", "/etc/hosts", "C:\\Windows\\win.ini",
                   "\\\\server\\share\\a.pdf", "\\2024\\a.pdf", "C:2024\\a.pdf"):
        assert _refused(stored, ctx) == ("path-outside-root", OUTSIDE), stored
    assert _refused(f"{real}/2024/missing.pdf", ctx) == ("file-missing", MISSING)
    assert _refused(f"{real}/2024/a\x00.pdf", ctx) == ("file-missing", NUL)


@pytest.mark.parametrize("stored", [
    "C:\\UBCARE\\SCAN\\2023\\000123_1.jpg",
    "c:\\ubcare\\scan\\2023\\000123_1.jpg",  # Windows names are case-insensitive
    "C:/UBCARE/Scan/2023/000123_1.jpg",  # either slash
    "c:/UBCARE\\sCaN/2023\\000123_1.jpg",
    "  C:\\UBCARE\\SCAN\\2023\\000123_1.jpg  ",  # CHAR padding
    "\\\\NAS\\emr\\img\\2023\\000123_1.jpg",  # a network share
    "//nas/EMR/IMG/2023/000123_1.jpg",
    "\\\\Nas/emr\\Img/2023\\000123_1.jpg",
    "D:\\EMR\\Images\\Old\\2023\\000123_1.jpg",  # the longest prefix first (D:\EMR\Images is one too)
])
def test_windows_stored_paths_are_read_through_stored_prefixes(tmp_path: Path, stored: str) -> None:
    root = tmp_path / "copied"
    (root / "2023").mkdir(parents=True)
    (root / "2023" / "000123_1.jpg").write_bytes(b"\xff\xd8 scan")
    (root / "Old").mkdir()  # D:\EMR\Images\Old\… must not be read as root/Old/… when D:\EMR\Images\Old matches
    spec = _spec_with_prefixes(
        tmp_path, "['C:\\UBCARE\\SCAN', '\\\\NAS\\emr\\img', 'D:\\EMR\\Images', 'D:\\EMR\\Images\\Old']")
    assert spec.attachments_prefixes == (
        "D:\\EMR\\Images\\Old", "C:\\UBCARE\\SCAN", "D:\\EMR\\Images", "\\\\NAS\\emr\\img")
    ctx = TransformContext(spec=spec, attachments_root=root)
    assert TRANSFORMS["file"](stored, FIELD, ctx) == str((root / "2023" / "000123_1.jpg").resolve())


def test_after_a_stored_prefix_nothing_else_loosens(tmp_path: Path) -> None:
    root = tmp_path / "copied"
    (root / "2023").mkdir(parents=True)
    (root / "2023" / "a.jpg").write_bytes(b"jpg")
    (tmp_path / "secret.txt").write_text("x")
    (root / "link.jpg").symlink_to(tmp_path / "secret.txt")
    spec = _spec_with_prefixes(tmp_path, "['C:\\UBCARE\\SCAN', '\\\\NAS\\emr\\img', '/mnt/emr/img']")
    ctx = TransformContext(spec=spec, attachments_root=root)
    assert TRANSFORMS["file"]("C:\\UBCARE\\SCAN\\2023\\a.jpg", FIELD, ctx) == str((root / "2023" / "a.jpg").resolve())
    assert TRANSFORMS["file"]("/mnt/emr/img/2023/a.jpg", FIELD, ctx) == str((root / "2023" / "a.jpg").resolve())
    for stored in (
        "C:\\UBCARE\\SCAN\\..\\secret.txt",  # '..' after the prefix
        "C:\\UBCARE\\SCAN\\2023\\..\\..\\secret.txt",
        "C:/UBCARE/SCAN/2023/../a.jpg",  # even one that stays inside, as for a relative path
        "\\\\NAS\\emr\\img\\..\\secret.txt",
        "C:\\UBCARE\\SCAN\\link.jpg",  # a link out of the root
        "C:\\UBCARE\\SCANNER\\2023\\a.jpg",  # a longer folder name is another folder
        "C:\\UBCARE\\2023\\a.jpg",
        "D:\\UBCARE\\SCAN\\2023\\a.jpg",  # another drive
        "\\\\NAS\\other\\img\\2023\\a.jpg",  # another share
        "\\\\OTHER\\emr\\img\\2023\\a.jpg",
        "/MNT/emr/img/2023/a.jpg",  # a POSIX prefix is compared exactly
        "/mnt/emr/imgs/2023/a.jpg",
        "/etc/hosts",
        f"{tmp_path}/secret.txt",
    ):
        assert _refused(stored, ctx) == ("path-outside-root", OUTSIDE), stored
    assert _refused("C:\\UBCARE\\SCAN\\2023\\b.jpg", ctx) == ("file-missing", MISSING)
    assert _refused("C:\\UBCARE\\SCAN\\2023\\a\x00.jpg", ctx) == ("file-missing", NUL)
    assert _refused("C:\\UBCARE\\SCAN", ctx) == ("file-missing", MISSING)  # the folder itself is no file


def test_windows_paths_are_compared_as_windows_compares_them_on_any_system() -> None:
    """The root on a Windows PC (a WindowsPath there): the very logic, run here with PureWindowsPath."""
    from emr_exporter.connectors.paths import relative_to_base

    base = PureWindowsPath("C:\\Users\\원장\\Documents\\SCAN")
    assert relative_to_base("c:/users/원장/documents/scan/2023/A.JPG", base) == ("2023", "A.JPG")
    assert relative_to_base("C:\\Users\\원장\\Documents\\SCAN", base) == ()
    assert relative_to_base("C:\\Users\\원장\\Documents\\SCANS\\a.jpg", base) is None
    assert relative_to_base("D:\\Users\\원장\\Documents\\SCAN\\a.jpg", base) is None
    assert relative_to_base("/Users/원장/Documents/SCAN/a.jpg", base) is None
    assert relative_to_base("SCAN\\a.jpg", base) is None
    share = PureWindowsPath("\\\\NAS\\emr")
    assert relative_to_base("//nas/EMR/img/a.jpg", share) == ("img", "a.jpg")
    assert relative_to_base("\\\\NAS\\emr2\\img\\a.jpg", share) is None
    posix = PurePosixPath("/srv/emr")
    assert relative_to_base("/srv/emr/img/a.jpg", posix) == ("img", "a.jpg")
    assert relative_to_base("/srv/EMR/img/a.jpg", posix) is None
    assert relative_to_base("C:\\srv\\emr\\a.jpg", posix) is None


@pytest.mark.parametrize(("prefixes", "problem"), [
    ("['UBCARE\\SCAN']", "entry 1 is not an absolute path: give the folder as the EMR wrote it at the start of its "
                         "stored paths (C:\\…, \\\\server\\share\\… or /…); a relative stored path is already read "
                         "from the attachment folder"),
    ("['C:\\EMR', 'C:SCAN']", "entry 2 is not an absolute path: give the folder as the EMR wrote it at the start "
                              "of its stored paths (C:\\…, \\\\server\\share\\… or /…); a relative stored path is "
                              "already read from the attachment folder"),
    ("['\\SCAN']", "entry 1 is not an absolute path: give the folder as the EMR wrote it at the start of its "
                   "stored paths (C:\\…, \\\\server\\share\\… or /…); a relative stored path is already read "
                   "from the attachment folder"),
    ("['\\\\NAS']", "entry 1: a network path needs its server and share (\\\\server\\share\\…)"),
    ("['C:\\EMR\\..\\SCAN']", "entry 1 may not hold '..'"),
    ('["C:\\u0000x"]', "an entry holds a NUL character"),
    ("'C:\\UBCARE\\SCAN'", "must be a list of folders as the EMR wrote them, e.g. ['C:\\UBCARE\\SCAN', "
                           "'\\\\NAS\\emr\\img'] (TOML literal strings)"),
    ("['']", "must be a list of folders as the EMR wrote them, e.g. ['C:\\UBCARE\\SCAN', "
             "'\\\\NAS\\emr\\img'] (TOML literal strings)"),
])
def test_stored_prefixes_are_validated(tmp_path: Path, prefixes: str, problem: str) -> None:
    with pytest.raises(ConnectorSpecError) as caught:
        _spec_with_prefixes(tmp_path, prefixes)
    assert (caught.value.field, caught.value.problem) == ("attachments.stored_prefixes", problem)
    assert caught.value.line is not None


def test_absolute_paths_inside_the_root_are_exported_byte_for_byte(demo_clinic, tmp_path: Path) -> None:
    """The demo clinic with every stored relative path written as the EMR on the clinic's PC would: the full
    path inside the attachments folder. Each file is in the bag, its SHA-256 the bag's member's."""
    database = tmp_path / "clinic.sqlite"
    shutil.copyfile(demo_clinic.path, database)
    root = Path(demo_clinic.attachments_root)
    with sqlite3.connect(database) as conn:
        files = conn.execute("SELECT ATT_NO, FILE_PATH FROM ATTACH_FILE WHERE FILE_PATH IS NOT NULL").fetchall()
        present = {key: path for key, path in files if (root / path).is_file() and not path.startswith("..")
                   and not path.startswith("/")}
        conn.executemany("UPDATE ATTACH_FILE SET FILE_PATH = ? WHERE ATT_NO = ?",
                         [(str(root.resolve() / path), key) for key, path in present.items()])
    assert len(present) > 50
    spec = load_connector("demo")
    source = SqliteFileSource(database)
    run = ExportRun(spec, source, institution=read_institution(spec, source),
                    created=dt.datetime(2026, 11, 25, tzinfo=dt.UTC), attachments_root=root)
    data = b"".join(run.stream())
    source.close()
    attachment = next(e for e in run.reconciliation.entities if e.entity == "attachment")
    assert dict(attachment.reasons) == {"path-outside-root": 2, "file-missing": 2}  # the demo's planted ones
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        members = {Path(m.name).stem: hashlib.sha256(tar.extractfile(m).read()).hexdigest()  # type: ignore[union-attr]
                   for m in tar.getmembers() if m.name.startswith("bag/data/attachments/")}
    for key, path in present.items():
        expected = hashlib.sha256((root / path).read_bytes()).hexdigest()
        assert members[model.record_id("demo", "ATTACH_FILE", str(key))] == expected, key
