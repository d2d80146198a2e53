"""The local web app a device serves to its owner's browser on 127.0.0.1 (DESIGN.md §3).

``backchannel ui`` opens a profile, starts :func:`create_app` on the loopback address with a
random token, and prints the address to open. The browser talks only to this process; keys,
decryption and the engine's checks stay in it. The mediator sees a console of every caucus it is
in, with relay actions the carry labels allow; a delegation sees its rooms, sends with a label it
chooses, and reads what the mediator carried in. English, Arabic and Persian.
"""

from backchannel.ui.app import create_app
from backchannel.ui.serve import address, bind, new_token, serving

__all__ = ["address", "bind", "create_app", "new_token", "serving"]
