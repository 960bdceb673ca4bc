"""Content hashes of files."""

import hashlib


def file_sha256(path) -> str:
    """The SHA-256 of the file at `path`, as hex, read in 4 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()
