"""`python -m bot.cli`: the `legalbot` command without the installed script."""

from . import main

main()
