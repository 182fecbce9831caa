"""Who a campaign goes to, and by which WeChat channel.

- `all` and `tag:ID` are mass sends (message/mass/sendall): WeChat fans out, within the
  account's mass quota (4 a month for a service account), and reports the result later
  in a MASSSENDJOBFINISH event.
- `active48h` and `openids:FILE` are customer-service messages (message/custom/send),
  one request per follower, allowed only within 48 hours of the follower's last message
  or event: legalbot sends each, records each outcome and can resume.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bot.errors import CampaignError

MASS, SERVICE = "mass", "service"
_OPENID = re.compile(r"[A-Za-z0-9_-]{6,64}")


@dataclass(frozen=True)
class Audience:
    kind: str  # all | tag | active48h | openids
    tag_id: int | None = None
    path: Path | None = None

    @property
    def channel(self) -> str:
        return MASS if self.kind in ("all", "tag") else SERVICE

    def __str__(self) -> str:
        if self.kind == "tag":
            return f"tag:{self.tag_id}"
        if self.kind == "openids":
            return f"openids:{self.path}"
        return self.kind


def parse(text: str, check_file: bool = True) -> Audience:
    """`all`, `tag:ID`, `active48h` or `openids:FILE` (the file is checked when asked)."""
    value = text.strip()
    if value in ("all", "active48h"):
        return Audience(value)
    if value.startswith("tag:"):
        tag = value[4:].strip()
        if not tag.isdigit():
            raise CampaignError(f"--audience {text!r}: tag:ID needs the numeric WeChat tag id")
        return Audience("tag", tag_id=int(tag))
    if value.startswith("openids:"):
        path = Path(value[8:].strip()).expanduser()
        if check_file:
            path = path.resolve()
            read_openids(path)
        return Audience("openids", path=path)
    raise CampaignError(f"--audience {text!r}: must be all, tag:ID, active48h or openids:FILE")


def is_openid(value: str) -> bool:
    """Whether `value` has the shape of an OpenID (letters, digits, - and _)."""
    return bool(_OPENID.fullmatch(value))


def read_openids(path: Path) -> list[str]:
    """The OpenIDs of a file, one a line (blank lines and # comments skipped), deduplicated.

    Messages name line numbers, never the OpenIDs themselves.
    """
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise CampaignError(f"openids:{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CampaignError(f"openids:{path}: cannot be read ({exc})") from None
    openids: dict[str, None] = {}
    for number, line in enumerate(lines, start=1):
        value = line.split("#", 1)[0].strip()
        if not value:
            continue
        if not _OPENID.fullmatch(value):
            raise CampaignError(f"openids:{path}:{number}: not an OpenID")
        openids[value] = None
    if not openids:
        raise CampaignError(f"openids:{path}: the file lists no OpenID")
    return list(openids)
