"""The secret key: configured, or generated on first start and kept under var/."""

from __future__ import annotations

import os
import secrets
import time


def ensure_secret_key(config) -> str:
    """The configured secret key, or one generated on first start and kept under var/."""
    if config.secret_key:
        return config.secret_key
    key_file = config.var_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    config.var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker generated it a moment ago
        time.sleep(0.05)
        return key_file.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    return key
