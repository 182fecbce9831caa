"""Logging for every process (the app, `legalbot serve`, `legalbot scheduler`): one format,
and no secret in any line.

urllib3 logs every request's URL at DEBUG, and WeChat's API carries the AppSecret
(`/token?…&secret=`) and the access token (`?access_token=`) in its query string; the
same URL is in requests' exception messages. So urllib3 and requests log warnings and
errors only, whatever the level, and every line the root handlers write has those
parameters (and signatures, OpenIDs) blanked.
"""

from __future__ import annotations

import logging
import re

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
QUIET = ("urllib3", "requests")  # their DEBUG lines hold whole URLs
# Query parameters whose values never reach a log line: WeChat's secrets, the webhook's
# reusable signatures, and the resident's OpenID.
SECRET_PARAMS = re.compile(
    r"\b(secret|appsecret|access_token|signature|msg_signature|openid|echostr)=[^&\s'\"]+",
    re.IGNORECASE,
)


def redact(text: str) -> str:
    """`text` with the values of secret query parameters replaced by `***`."""
    return SECRET_PARAMS.sub(r"\1=***", text)


class Redacting(logging.Filter):
    """Blanks secret query parameters in a handler's records (message and traceback)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def setup_logging(level: str) -> None:
    """Log to standard error at `level` (once per process), secrets left out."""
    logging.basicConfig(level=level, format=FORMAT)
    floor = max(logging.WARNING, logging.getLevelName(level))
    for name in QUIET:
        logging.getLogger(name).setLevel(floor)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, Redacting) for f in handler.filters):
            handler.addFilter(Redacting())
