"""The root of the tree, and bad input: a request, file or argument that is malformed."""

from __future__ import annotations

from typing import Any, ClassVar


class BackchannelError(Exception):
    """Root of every error Backchannel raises on purpose."""

    code: ClassVar[str] = "backchannel.error"
    status: ClassVar[int] = 500

    def __init__(self, message: str, *, detail: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail: dict[str, Any] = detail or {}

    def to_dict(self) -> dict[str, Any]:
        """The user-facing shape: code and sentence, never the debug detail."""
        return {"code": self.code, "message": self.message}


# --- bad input -------------------------------------------------------------------------------


class InputError(BackchannelError):
    """A request, file or argument is malformed; nothing was changed."""

    code = "input.invalid"
    status = 400


class ScenarioInvalid(InputError):
    """A scenario file cannot be read; names the file, the line and the reason."""

    code = "scenario.invalid"

    def __init__(self, file: str, line: int | None, reason: str) -> None:
        where = f"{file}:{line}" if line is not None else file
        super().__init__(f"{where}: {reason}", detail={"file": file, "line": line})
        self.file = file
        self.line = line
        self.reason = reason


class _FieldError(InputError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}", detail={"field": field})
        self.field = field
        self.reason = reason


class ProblemInvalid(_FieldError):
    """An analysis problem file is malformed; names the field."""

    code = "analysis.invalid"


class EscrowInvalid(_FieldError):
    """An escrow file is malformed; names the field."""

    code = "escrow.invalid"


class EventMalformed(_FieldError):
    """An encoded engine event (from the wire or a record) does not decode; names the field."""

    code = "event.malformed"


class WireMalformed(_FieldError):
    """A payload another device sent does not hold items in the wire format; names the field."""

    code = "wire.malformed"


class FormInvalid(_FieldError):
    """A request to the local web app lacks a field or gives a bad value; names the field."""

    code = "form.invalid"


class DocumentInvalid(InputError):
    """A file cannot be sent as a document (missing, unreadable, or over the size limit)."""

    code = "document.invalid"


class MediaTypeUnsupported(InputError):
    """A request body is not of the one media type the route reads (JSON)."""

    code = "input.media_type"
    status = 415


# --- documents -------------------------------------------------------------------------------


class DocumentMalformed(InputError):
    """A file given as a PDF cannot be read as one."""

    code = "document.malformed"


class FontMissing(BackchannelError):
    """The font that PDF copies are set in is not installed on this machine."""

    code = "document.font_missing"
