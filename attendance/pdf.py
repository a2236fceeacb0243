"""The one WeasyPrint renderer: templates in, PDF bytes out, nothing fetched from the network."""
from flask import current_app, render_template
from weasyprint import HTML, URLFetcher
from weasyprint.text.fonts import FontConfiguration

_font_config: FontConfiguration | None = None


def font_config() -> FontConfiguration:
    # One long-lived configuration: a new one reloads every system font.
    global _font_config
    if _font_config is None:
        _font_config = FontConfiguration()
    return _font_config


def render_pdf(template: str, **context) -> bytes:
    html = render_template(template, **context)
    document = HTML(
        string=html,
        base_url=current_app.static_folder + "/",
        url_fetcher=URLFetcher(allowed_protocols={"file", "data"}),
    )
    return document.write_pdf(font_config=font_config())
