"""The one WeasyPrint internal the app uses, guarded: a trimmed HTML user-agent stylesheet.

WeasyPrint's user-agent stylesheet gives `::marker`, `::footnote-call`, `::footnote-marker`, `::note-call`,
`::note-marker` and `::note-callback` to any element, so it computes six pseudo-element styles for each element of
every PDF; its sixteen page-margin box rules cost a computed style each on every page. Our PDFs have no footnotes
or notes, list markers only on `li`, and fill a margin box only where a stylesheet says so. WeasyPrint has no public
way to replace that stylesheet: `HTML._ua_stylesheets` is the hook its own tests override.

Why keep it, measured on WeasyPrint 70.0 (the app's renderer, interleaved A/B, median of 6 rounds on a loaded
2-core machine): one certificate 68.8 ms trimmed against 73.2 ms stock (-6 %), a document of 20 certificates
1,074 against 1,165 ms (-8 %), the unit a bulk export renders.

The hook is used only on the WeasyPrint versions it was checked on (`CHECKED_VERSIONS`). On any other, PDFs are
made with WeasyPrint's own stylesheet (correct, a little slower), an error is logged at start, and
tests/test_pdf_renderer.py fails: check the hook on the new version, then add it here.
"""

import logging

import weasyprint
from weasyprint import CSS, HTML
from weasyprint import html as weasyprint_html

log = logging.getLogger(__name__)

#: WeasyPrint versions (major.minor) on which `_ua_stylesheets` was checked to be the hook WeasyPrint calls.
CHECKED_VERSIONS = ("70.0",)

HOOK = "_ua_stylesheets"


def hook_is_usable(version: str = weasyprint.__version__) -> bool:
    return version in CHECKED_VERSIONS and callable(getattr(HTML, HOOK, None))


def trimmed_user_agent_css(margin_boxes: bool) -> str:
    """WeasyPrint's HTML user-agent stylesheet without its rules for the pseudo-elements of every element (list
    markers kept for `li`), and without those of the page-margin boxes unless asked for."""
    kept = []
    for line in weasyprint_html.UA.splitlines():
        if line.startswith(("::footnote-", "::note-", "@counter-style")):  # counter styles: registered already
            continue
        if not margin_boxes and line.lstrip().startswith(("@top-", "@bottom-", "@left-", "@right-")):
            continue
        kept.append("li" + line if line.startswith("::marker") else line)
    return "\n".join(kept)


class _TrimmedHTML(HTML):
    user_agent_stylesheet: CSS

    def _ua_stylesheets(self, forms=False):
        return [self.user_agent_stylesheet, *([weasyprint_html.UA_FORM_STYLESHEET] if forms else [])]


USABLE = hook_is_usable()
if USABLE:
    _STYLESHEETS = {margin_boxes: CSS(string=trimmed_user_agent_css(margin_boxes)) for margin_boxes in (False, True)}
else:
    log.error(
        "WeasyPrint %s is not one the trimmed user-agent stylesheet was checked on (%s): PDFs use "
        "WeasyPrint's own, 6-8 %% slower. See attendance/documents/weasyprint_ua.py.",
        weasyprint.__version__,
        ", ".join(CHECKED_VERSIONS),
    )


def html(*, margin_boxes: bool, **kwargs) -> HTML:
    """`weasyprint.HTML(**kwargs)`, with the trimmed user-agent stylesheet where the hook is usable."""
    if not USABLE:
        return HTML(**kwargs)
    document = _TrimmedHTML(**kwargs)
    document.user_agent_stylesheet = _STYLESHEETS[margin_boxes]
    return document
