"""What is generated on first start and kept under var/: the secret key and the webhook
token; and var/ itself, readable by its owner only (it holds the database, the journal,
the access token and these)."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import secrets
import stat
from collections.abc import Callable
from pathlib import Path

from ..errors import ConfigError

# Tokens an operator may have copied from an example rather than chosen (the platform
# asks for 3 to 32 letters or digits, and examples everywhere use these).
PLACEHOLDERS = {
    "legalbot", "token", "mytoken", "yourtoken", "wechat", "weixin", "wx", "test", "testtoken",
    "example", "changeme", "default", "password", "secret", "abc", "abc123", "qwerty",
}  # fmt: skip


def private_dir(path: Path) -> Path:
    """`path`, created readable by its owner only (0700); an existing one is tightened."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        with contextlib.suppress(OSError):  # not ours to change: leave it as the owner made it
            path.chmod(0o700)
    return path


def ensure_secret_key(config) -> str:
    """The configured secret key, or one generated on first start and kept under var/."""
    if config.secret_key:
        return config.secret_key
    return _kept(
        config.var_dir / "secret_key", lambda: secrets.token_hex(32), "LEGALBOT_SECRET_KEY"
    )


def webhook_token(config) -> str:
    """The configured Token, or one generated on first start and kept in var/webhook_token.

    No token is shipped: a default one would let anyone who read the README sign
    requests. The generated one serves the embedded quick start and `legalbot simulate`
    (which reads the same file); a real account sets the platform's Token.
    """
    if config.wechat.token:
        return config.wechat.token
    return _kept(
        config.var_dir / "webhook_token", lambda: secrets.token_hex(16), "LEGALBOT_WECHAT_TOKEN"
    )


def with_webhook_token(config):
    """`config` with wechat.token filled in (`webhook_token`)."""
    token = webhook_token(config)
    return dataclasses.replace(config, wechat=dataclasses.replace(config.wechat, token=token))


def token_warning(config) -> str | None:
    """What to say at start about the configured Token, if anything."""
    token = config.wechat.token
    if not token:
        return (
            f"wechat.token is not set: the webhook uses the token generated in "
            f"{config.var_dir / 'webhook_token'}; set LEGALBOT_WECHAT_TOKEN to the Token of "
            "the WeChat platform before connecting an account"
        )
    if looks_like_placeholder(token):
        return (
            f"wechat.token looks like a placeholder ({len(token)} characters, a common word "
            "or pattern): anyone guessing it can sign requests; set LEGALBOT_WECHAT_TOKEN to a "
            "random one of 3 to 32 letters or digits, the same as on the WeChat platform"
        )
    return None


def looks_like_placeholder(token: str) -> bool:
    lowered = token.lower()
    return (
        lowered in PLACEHOLDERS
        or len(token) < 8
        or len(set(lowered)) <= 2
        or (lowered.isdigit() and lowered in "01234567890123456789")  # 12345678
    )


def _kept(path: Path, make: Callable[[], str], variable: str) -> str:
    """The secret in `path`, made and written there by the first process to need it.

    Workers started together all find it missing at once. Each writes a secret of its
    own to a file of its own and links that into place: the name appears only with a
    whole secret behind it (never an empty file read half-written), and the link fails
    for every process but the first, which then read the first's.
    """
    found = _read(path, variable)
    if found is not None:
        return found
    private_dir(path.parent)
    mine = make()
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(mine + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.link(draft, path)  # never replaces: FileExistsError when another was first
    except FileExistsError:
        mine = ""
    finally:
        draft.unlink(missing_ok=True)
    if mine:
        return mine
    found = _read(path, variable)
    if found is None:
        raise ConfigError(f"config: {path} vanished while it was being made; start again")
    return found


def _read(path: Path, variable: str) -> str | None:
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"config: {path} cannot be read ({exc.strerror})") from None
    if not text:
        raise ConfigError(
            f"config: {path} is empty: remove it to have a new one made, or set {variable}"
        )
    return text
