"""Scratch files (pipeline/scratch.py): in the folder asked for, never visible there, gone when closed.

The Windows branch (hidden + temporary attributes on a file that keeps its name while open) cannot run on
this Linux CI; here the test holds the platform's own promise: an open scratch file has no name at all."""

from __future__ import annotations

import os
from pathlib import Path

from emr_exporter.pipeline.scratch import scratch_file


def test_a_scratch_file_is_made_in_its_folder_works_and_is_never_listed(tmp_path: Path) -> None:
    folder = tmp_path / "out" / "spool"
    handle = scratch_file(folder, ".emr-ids-")
    try:
        assert folder.is_dir()  # made when missing
        handle.write(b"\x00\x01" * 70_000)
        handle.seek(0)
        assert handle.read() == b"\x00\x01" * 70_000
        # On the same file system as the folder (so a spill fills the disk the user chose, not /tmp)...
        assert os.fstat(handle.fileno()).st_dev == os.stat(folder).st_dev
        # ...and nothing to see, move or delete there while the export runs.
        assert os.listdir(folder) == []
    finally:
        handle.close()
    assert os.listdir(folder) == []


def test_without_a_folder_it_goes_to_the_system_temporary_folder(tmp_path: Path) -> None:
    with scratch_file(None, ".emr-visits-") as handle:
        handle.write(b"x")
        handle.seek(0)
        assert handle.read() == b"x"
