"""The patient key: an HMAC of the patient id under a deployment secret.

Cards can be counted per patient without the store holding anyone's id. Set
``CDS_B12_PSEUDONYM_KEY`` (the same on every replica); without it a random
key is made once and kept in the data directory.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

KEY_FILE = "pseudonym.key"


def load_key(configured: str | None, data_dir: Path) -> bytes:
    if configured:
        return configured.encode()
    path = data_dir / KEY_FILE
    key = path.read_text().strip() if path.exists() else ""
    if not key:  # never an empty secret: that would make the patient key an unkeyed hash
        key = _create(path)
    return key.encode()


def _create(path: Path) -> str:
    """Write a new key atomically: a reader sees no file or the whole key, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(key)
        out.flush()
        os.fsync(out.fileno())
    try:
        os.link(temporary, path)  # fails if the file exists: another process made a key
    except FileExistsError:
        existing = path.read_text().strip()
        if existing:
            return existing
        os.replace(temporary, path)  # an empty file left by a crash: replace it
    finally:
        temporary.unlink(missing_ok=True)
    return key


def patient_key(key: bytes, patient_id: str) -> str:
    return hmac.new(key, patient_id.encode(), hashlib.sha256).hexdigest()
