"""Text as people send it, for every door (forms, the API, file names): one cleaning function
and one length limit for free text.

``clean_text`` removes the characters that change how text is shown without being text:
control characters other than tab and line breaks (ESC …), the bidirectional overrides and
isolates (U+202E RLO makes 「报告.exe」 look like 「exe.告报」), zero-width spaces and the byte
order mark. Forms get it through ``core.forms.BootstrapFormMixin`` (every text value of every
field), the API through ``core.api``'s parsers (every string of a JSON, form or multipart
body), evidence files through ``core.evidence`` (their names).

``TEXT_LIMIT`` is the longest note, reason or progress text a service accepts (the API's
serializers use the same number); a service checks it with ``check_length``.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

TEXT_LIMIT = 5000

UNSAFE_CHARACTERS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"  # C0 (not tab, LF, CR), DEL, C1
    "\u061c\u200b\u200e\u200f\u202a-\u202e\u2066-\u2069"  # bidi marks, overrides, isolates
    "\ufeff]"  # byte order mark / zero-width no-break space
)


def clean_text(value: str) -> str:
    """``value`` without control, bidirectional-override and zero-width characters."""
    return UNSAFE_CHARACTERS.sub("", value)


def cleaned(data):
    """Every string in a parsed body (dicts and lists, nested) cleaned by ``clean_text``."""
    if isinstance(data, str):
        return clean_text(data)
    if isinstance(data, dict):
        return {key: cleaned(value) for key, value in data.items()}
    if isinstance(data, list):
        return [cleaned(value) for value in data]
    return data


def too_long(text: str | None, limit: int = TEXT_LIMIT) -> str | None:
    """The message when ``text`` is longer than ``limit`` characters, else None."""
    if text and len(text) > limit:
        return _("不能超过 %(limit)s 个字（现有 %(length)s 个字）") % {
            "limit": limit,
            "length": len(text),
        }
    return None
