"""Where an import job's uploaded file is kept until the job ends: beside a SQLite database, or inside a
PostgreSQL one (so that any node's worker can read it). Either way the file and its job row are durable
before the upload is answered, and the file goes when the job ends.
"""

from __future__ import annotations

import io
import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from ..errors import StorageError
from .jobs import JobsMixin

#: Bytes per piece an upload is copied and kept in.
PIECE = 1 << 20


def _fsync_folder(folder: Path) -> None:
    """Make a file's creation, rename or removal in `folder` durable (the directory entry itself)."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class FileUploads(JobsMixin):
    """Uploads as files in a folder beside the SQLite database: `<database>-uploads/<file_ref>`."""

    #: The database file (the SQLite backend sets it).
    path: str

    @property
    def uploads_folder(self) -> Path:
        """The folder beside the database that holds the files of jobs that have not ended."""
        return Path(f"{self.path}-uploads")

    def create_job(self, row: dict, upload: BinaryIO) -> int:
        """Write the file and sync it, then commit the job that names it; return the job's id.

        A crash between the two leaves a file no job names, which `sweep_uploads` removes later.
        """
        self.ensure_migrated()
        folder = self.uploads_folder
        ref = uuid.uuid4().hex
        try:
            folder.mkdir(exist_ok=True)
            part = folder / f"{ref}.part"
            with open(part, "wb") as out:
                shutil.copyfileobj(upload, out, PIECE)
                out.flush()
                os.fsync(out.fileno())
            os.replace(part, folder / ref)
            _fsync_folder(folder)
        except OSError as exc:  # a full or read-only disk is the store being unavailable: 503, nothing kept
            (folder / f"{ref}.part").unlink(missing_ok=True)
            raise StorageError(f"cannot keep the upload in {folder}: {exc}") from exc
        try:
            with self._transaction() as conn:
                return self._insert_job(conn, {**row, "file_ref": ref})
        except BaseException:
            (folder / ref).unlink(missing_ok=True)
            raise

    def open_upload(self, job: dict) -> BinaryIO:
        """The job's file, for reading; StorageError when it is gone."""
        try:
            return open(self.uploads_folder / job["file_ref"], "rb")
        except OSError as exc:
            raise StorageError(f"the upload of import job {job['id']} cannot be read: {exc}") from exc

    def _drop_upload(self, conn, job: dict) -> Callable[[], None]:
        """Remove the file once the job's end is committed (removing it before could lose it)."""
        def remove() -> None:
            (self.uploads_folder / job["file_ref"]).unlink(missing_ok=True)
        return remove

    def sweep_uploads(self, older_than: float) -> int:
        """Remove files no job names that were last written before `older_than` (epoch seconds): uploads
        whose job was never committed. Return how many went."""
        folder = self.uploads_folder
        if not folder.is_dir():
            return 0
        named = {row["file_ref"] for row in self._read("SELECT file_ref FROM import_jobs WHERE finished_at IS NULL")}
        removed = 0
        for entry in folder.iterdir():
            if entry.name.removesuffix(".part") not in named and entry.stat().st_mtime < older_than:
                entry.unlink(missing_ok=True)
                removed += 1
        return removed


class _Pieces(io.RawIOBase):
    """A job's upload read back from import_files, one piece per query."""

    def __init__(self, storage: DatabaseUploads, job_id: int):
        """Start at the first piece."""
        self.storage, self.job_id, self.seq = storage, job_id, 0
        self.pending = memoryview(b"")

    def readable(self) -> bool:
        """It is."""
        return True

    def readinto(self, buffer) -> int:
        """Fill `buffer` from the current piece, fetching the next when it is used up; 0 at the end."""
        if not self.pending:
            rows = self.storage._read("SELECT data FROM import_files WHERE job_id = ? AND seq = ?",
                                      (self.job_id, self.seq))
            if not rows:
                return 0
            self.pending, self.seq = memoryview(bytes(rows[0]["data"])), self.seq + 1
        size = min(len(buffer), len(self.pending))
        buffer[:size] = self.pending[:size]
        self.pending = self.pending[size:]
        return size


class DatabaseUploads(JobsMixin):
    """Uploads as pieces in the import_files table, written in the transaction that creates the job."""

    def create_job(self, row: dict, upload: BinaryIO) -> int:
        """Commit the job and every piece of its file together; return the job's id."""
        self.ensure_migrated()
        with self._transaction() as conn:
            job_id = self._insert_job(conn, {**row, "file_ref": "import_files"})
            seq = 0
            while piece := upload.read(PIECE):
                conn.execute("INSERT INTO import_files (job_id, seq, data) VALUES (?, ?, ?)", (job_id, seq, piece))
                seq += 1
        return job_id

    def open_upload(self, job: dict) -> BinaryIO:
        """The job's file, read a piece at a time."""
        return io.BufferedReader(_Pieces(self, job["id"]), PIECE)

    def _drop_upload(self, conn, job: dict) -> None:
        """Delete the pieces in the transaction that ends the job."""
        conn.execute("DELETE FROM import_files WHERE job_id = ?", (job["id"],))

    def sweep_uploads(self, older_than: float) -> int:
        """Nothing to sweep: the pieces are written with their job, or not at all."""
        return 0
