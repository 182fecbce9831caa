"""Configuration: every setting declared once (settings.py), read and checked (loader.py),
written out as config.toml (document.py; `python -m bot.config > config.toml`).

    settings.py   the table: key, type, default, bounds or rule, variable, comment
    loader.py     config.toml + LEGALBOT_* into one frozen, checked Config
    document.py   config.toml from the table
    secret.py     the secret key and webhook token generated on first start; var/ kept private
"""

from .loader import (
    CampaignSettings,
    Config,
    KnowledgeSettings,
    MediationSettings,
    StatsSettings,
    WeChatSettings,
    load,
)
from .secret import ensure_secret_key, private_dir, token_warning, with_webhook_token
from .settings import DEFAULTS, ENV_OVERRIDES, SETTINGS, Setting

__all__ = [
    "DEFAULTS",
    "ENV_OVERRIDES",
    "SETTINGS",
    "CampaignSettings",
    "Config",
    "KnowledgeSettings",
    "MediationSettings",
    "Setting",
    "StatsSettings",
    "WeChatSettings",
    "ensure_secret_key",
    "load",
    "private_dir",
    "token_warning",
    "with_webhook_token",
]
