"""``python -m backchannel`` runs the command line."""

from backchannel.cli import main

main()
