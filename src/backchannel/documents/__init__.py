"""Documents as files a member takes away: PDF copies marked for their recipient, and tracing a
leaked one back to its copy. See :mod:`backchannel.documents.pdf` for what the marks are."""

from backchannel.documents.layer import (
    extracted_text,
    hidden_text,
    holder,
    trace_excerpt,
    trace_pdf,
)
from backchannel.documents.pdf import (
    VisibleMark,
    copy_id,
    direction_of,
    render_text,
    restored,
    stamp,
)

__all__ = [
    "VisibleMark",
    "copy_id",
    "direction_of",
    "extracted_text",
    "hidden_text",
    "holder",
    "render_text",
    "restored",
    "stamp",
    "trace_excerpt",
    "trace_pdf",
]
