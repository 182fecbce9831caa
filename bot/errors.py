"""The exceptions inner code raises; the edges (webhook, CLI) turn them into answers."""


class LegalbotError(Exception):
    """Base of every error the project raises on purpose."""


class ConfigError(LegalbotError):
    """A setting is missing or malformed; the message names the key."""


class InvalidSignature(LegalbotError):
    """A request did not carry WeChat's signature for our token."""


class ReplayedRequest(InvalidSignature):
    """A signed request's timestamp is stale, or its (timestamp, nonce) came with another body."""


class MalformedMessage(LegalbotError):
    """The body is not a WeChat message we can read (bad XML, entity tricks, bad cipher).

    `event`: the body is an event (MsgType `event`), answered `success` rather than 400,
    so WeChat does not retry a report it will only send again the same way.
    """

    def __init__(self, message: str, event: bool = False):
        super().__init__(message)
        self.event = event


class KnowledgeBaseError(LegalbotError):
    """The knowledge base files cannot be loaded; `problems` holds `file:line: message` lines."""

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = problems or []


class InvalidEntryError(KnowledgeBaseError):
    """An entry the console would publish breaks a rule of `legalbot kb validate`;
    `fields` holds the problems by field name ("" for the entry as a whole)."""

    def __init__(self, message: str, problems: list[str], fields: dict[str, list[str]]):
        super().__init__(message, problems)
        self.fields = fields


class StaleEntryError(LegalbotError):
    """An entry changed in its file since the draft being published was started; the
    message says so in Chinese, for the console to show as it is."""


class WeChatAPIError(LegalbotError):
    """The WeChat API refused a call; `errcode` is WeChat's code."""

    def __init__(self, errcode: int, errmsg: str):
        super().__init__(f"WeChat API error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class ActivityError(LegalbotError):
    """An offline activity cannot be recorded as given; the message says which field."""


class CampaignError(LegalbotError):
    """A campaign request cannot be done as asked (unknown theme, bad date, wrong state…).

    The message is one line a front end (CLI, console) shows as it is.
    """


def http_error_line(error) -> str:
    """An HTTP error (werkzeug's 404, 405, 413 …) as the one plain line the service answers."""
    return f"{error.code} {error.name}".lower()


class MediationError(LegalbotError):
    """A mediation case that cannot be recorded or changed as asked (bad kind, state, date)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field  # the form field it is about, for the console
