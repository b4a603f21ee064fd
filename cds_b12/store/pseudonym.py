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
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def patient_key(key: bytes, patient_id: str) -> str:
    return hmac.new(key, patient_id.encode(), hashlib.sha256).hexdigest()
