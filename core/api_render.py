"""The API's JSON renderer (settings.REST_FRAMEWORK): DRF's JSONRenderer with orjson doing the
encoding — several times faster on a list page (issue 19) and the same JSON once parsed.

Whatever orjson does not encode itself goes through DRF's own encoder (``default``): Decimal
as a number (COERCE_DECIMAL_TO_STRING is off), lazy translations as text, and date-times in
DRF's form (``…Z`` for UTC) rather than orjson's. A request asking for indented JSON
(``Accept: application/json; indent=2``) gets DRF's renderer. Like core.api_policies, this
module must not import DRF views (settings names it while they load).
"""

from decimal import Decimal

import orjson
from rest_framework import renderers
from rest_framework.utils.encoders import JSONEncoder

_encode_other = JSONEncoder().default


def _default(value):
    # Decimals are most of what orjson hands back (a target's figures and status); DRF's
    # encoder makes them float() too, after five isinstance tests.
    if type(value) is Decimal:
        return float(value)
    return _encode_other(value)


OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS


class JSONRenderer(renderers.JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        if self.get_indent(accepted_media_type, renderer_context or {}) is not None:
            return super().render(data, accepted_media_type, renderer_context)
        return orjson.dumps(data, default=_default, option=OPTIONS)
