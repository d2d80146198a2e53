"""The sans-I/O domain core: values in, values out; no sockets, files, clocks or randomness.

``apply(talks, event)`` returns the talks after an event or raises the
:class:`~backchannel.errors.RuleViolation` it breaks; events are applied in the record's order.
The rules themselves are tables in :mod:`backchannel.engine.rules`. Client and server share this
engine so both enforce the same rules.
"""

from backchannel.engine import codec, events, text, watermark
from backchannel.engine.checks import Checked, authorise
from backchannel.engine.mandate import Lapse, Standing, holders, standing
from backchannel.engine.messages import origin
from backchannel.engine.names import Names
from backchannel.engine.rules import (
    Action,
    ArticleStatus,
    Label,
    Level,
    RelayMode,
    Role,
    RoomKind,
    Stage,
)
from backchannel.engine.state import (
    Article,
    ArticleConsent,
    ArticleVersion,
    Confirmation,
    Consent,
    ContactRequest,
    Device,
    Entry,
    MandateGrant,
    Member,
    Message,
    Party,
    Room,
    Talks,
)
from backchannel.engine.talks import apply
from backchannel.engine.view import (
    Initiator,
    initiator,
    messages_for,
    shared_state,
    stage,
    visibility,
    words,
)

__all__ = [
    "Action",
    "Article",
    "ArticleConsent",
    "ArticleStatus",
    "ArticleVersion",
    "Checked",
    "Confirmation",
    "Consent",
    "ContactRequest",
    "Device",
    "Entry",
    "Initiator",
    "Label",
    "Lapse",
    "Level",
    "MandateGrant",
    "Member",
    "Message",
    "Names",
    "Party",
    "RelayMode",
    "Role",
    "Room",
    "RoomKind",
    "Stage",
    "Standing",
    "Talks",
    "apply",
    "authorise",
    "codec",
    "events",
    "holders",
    "initiator",
    "messages_for",
    "origin",
    "shared_state",
    "stage",
    "standing",
    "text",
    "visibility",
    "watermark",
    "words",
]
