"""JSON from outside (scanners, webhooks): what the standard parser takes but the app cannot use is bad input.

Python's `json` turns an escaped lone surrogate ("\\ud800") into a str that no UTF-8 encoder, so neither
database, will take; and it exhausts the stack on a few kilobytes of nested brackets. Both were server
errors; here they are a ValueError with a reason, as any other malformed JSON.
"""

import json
import re

from flask.json.provider import DefaultJSONProvider

# \uD800-\uDFFF escapes: lone ones are refused; pairs (an emoji written escaped) decode to one character.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def parse_json(data: str | bytes):
    """`json.loads` of UTF-8 JSON text, raising ValueError for anything that is not valid text or nests too deep."""
    # A UTF-8 BOM, which some Windows clients send, is allowed, as json.loads allows it in bytes.
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data  # UnicodeDecodeError is a ValueError
    try:
        value = json.loads(text)
        if _SURROGATE_ESCAPE.search(text):  # rare: only then check the decoded strings
            json.dumps(value, ensure_ascii=False).encode("utf-8")
    except RecursionError:
        raise ValueError("the JSON is nested too deeply") from None
    except UnicodeEncodeError:
        raise ValueError("the JSON holds a lone surrogate escape (\\ud800-\\udfff), which is not text") from None
    return value


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, reading request bodies with `parse_json`."""

    def loads(self, s: str | bytes, **kwargs):
        return super().loads(s, **kwargs) if kwargs else parse_json(s)
