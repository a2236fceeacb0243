"""Languages: English, French, Spanish and Arabic; the catalogues live in attendance/translations, compiled by
the set-up.

The interface language is the person's choice (remembered in a cookie), else their browser's Accept-Language.
Emails and PDFs use the language the delegate registered in (a certificate may use the session's language).
Spanish and Arabic cover what delegates, door staff and the kiosk see; organiser pages are English and French.
Adding a language is a new catalogue plus an entry here; `is_rtl` switches the page direction.
"""

import functools
import os

from flask import Blueprint, Flask, g, has_request_context, redirect, request, url_for
from flask_babel import Babel, force_locale, get_locale, refresh
from markupsafe import Markup

from .links import same_site_path
from .text import direction, isolate

LANGUAGES = {"en": "English", "fr": "Français", "es": "Español", "ar": "العربية"}
RIGHT_TO_LEFT = {"ar", "fa", "he", "ur"}
COOKIE = "lang"

babel = Babel()
bp = Blueprint("i18n", __name__)


def select_locale() -> str:
    if not has_request_context():
        return "en"  # the command line and background work; emails and PDFs set their own with force_locale
    chosen = request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    personal = g.get("personal_language")
    if personal in LANGUAGES:
        return personal
    return request.accept_languages.best_match(list(LANGUAGES)) or "en"


def _choose_afresh() -> None:
    """Flask-Babel caches the locale on the app context, which a request shares with an already pushed one (tests,
    scripts), as it shares `g`: each request chooses afresh, with no earlier page's personal language."""
    g.pop("personal_language", None)
    refresh()


def speak_as_mailed(language: str) -> None:
    """A page opened from a person's own link speaks the language their mails were written in (an invitation's,
    a registration's), unless this browser chose one with the switcher: the link may open on another device, or in
    a browser set to another language than the person reads."""
    g.personal_language = language.split("_")[0]
    refresh()  # the locale of this request may have been asked for already


def terminal_language() -> str:
    """The language of the command line: the terminal's (LC_ALL, LC_MESSAGES, LANG) when offered, else English."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        code = os.environ.get(name, "").split("_")[0].split(".")[0].lower()
        if code:
            return code if code in LANGUAGES else "en"
    return "en"


def in_terminal_language(command):
    """A command whose messages are written in the terminal's language."""

    @functools.wraps(command)
    def run(*args, **kwargs):
        with force_locale(terminal_language()):
            return command(*args, **kwargs)

    return run


def is_rtl() -> bool:
    return str(get_locale()).split("_")[0] in RIGHT_TO_LEFT


def language_direction(language: str | None = None) -> str:
    """'rtl' or 'ltr': of `language`, or of the language being written now."""
    return "rtl" if (language or str(get_locale())).split("_")[0] in RIGHT_TO_LEFT else "ltr"


@bp.post("/language")
def choose_language():
    """The language switcher: remembered for a year on this browser."""
    language = request.form.get("lang", "")
    response = redirect(same_site_path(request.form.get("next")) or url_for("main.index"))
    if language in LANGUAGES:
        response.set_cookie(
            COOKIE, language, max_age=365 * 24 * 3600, samesite="Lax", httponly=True, secure=request.is_secure
        )
    return response


def bdi(text: str) -> Markup:
    """A user-given text on a page, set apart for direction (`<bdi>`), escaped."""
    return Markup("<bdi>%s</bdi>") % text if text else Markup("")


def init_app(app: Flask) -> None:
    babel.init_app(
        app, locale_selector=select_locale, default_domain="messages", default_translation_directories="translations"
    )
    app.before_request(_choose_afresh)
    app.register_blueprint(bp)
    app.jinja_env.globals.update(
        LANGUAGES=LANGUAGES,
        is_rtl=is_rtl,
        language_direction=language_direction,
        current_locale=lambda: str(get_locale()),
    )
    app.add_template_filter(isolate)
    app.add_template_filter(bdi)
    app.add_template_filter(direction, "text_direction")
