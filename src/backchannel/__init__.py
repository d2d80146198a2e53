"""Backchannel: confidential mediated negotiations.

The package is layered (see DESIGN.md §3): ``engine`` is the pure domain core shared by client and
server; ``scenario`` loads talks described in TOML; ``cli`` is the ``backchannel`` command.
"""

from backchannel.errors import BackchannelError

__all__ = ["BackchannelError", "__version__"]
__version__ = "0.1.0"
