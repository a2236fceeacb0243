"""Absolute links for emails and PDFs, which are read away from the request that made them."""

import re
from urllib.parse import urlsplit

from flask import current_app, url_for

# Browsers drop tabs and newlines from a URL and read a backslash as a slash: "/\t/evil.com" and "/\\evil.com"
# both become "//evil.com", another site.
_UNSAFE_IN_PATH = re.compile(r"[\x00-\x1f\x7f\\]")


def public_url(endpoint: str, **values) -> str:
    base = current_app.config["PUBLIC_URL"]
    if base:
        return base + url_for(endpoint, _external=False, **values)
    return url_for(endpoint, _external=True, **values)


def same_site_path(target: str | None) -> str | None:
    """`target` when it is a path on this site ("/sessions?x=1"), else None: a `next` must not lead elsewhere."""
    if not target or not target.startswith("/") or target.startswith("//") or _UNSAFE_IN_PATH.search(target):
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None
