"""Absolute links for emails and PDFs, which are read away from the request that made them."""
from flask import current_app, url_for


def public_url(endpoint: str, **values) -> str:
    base = current_app.config["PUBLIC_URL"]
    if base:
        return base + url_for(endpoint, _external=False, **values)
    return url_for(endpoint, _external=True, **values)
