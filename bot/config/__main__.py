"""`python -m bot.config`: print config.toml as the table of settings declares it."""

import sys

from .document import render

sys.stdout.write(render())
