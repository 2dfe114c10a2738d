"""Languages: English (source strings) and Simplified Chinese (``locale/zh_Hans_CN``).

Messages are gettext catalogues maintained with Babel (``pybabel extract -F babel.cfg``,
see ``docs/web.md``); the ``.po`` file is compiled to a catalogue in memory when first used,
so no build step is needed. Numbers and dates are formatted with Babel's CLDR data for the
page's locale. The current locale is a context variable set per request.
"""

from __future__ import annotations

import functools
import gettext as _gettext
import io
from contextvars import ContextVar
from datetime import date, datetime
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent

LOCALES = ("en", "zh")
"""Locales of the UI: ``en`` (English) and ``zh`` (Simplified Chinese, CLDR ``zh_Hans_CN``)."""
CLDR = {"en": "en_GB", "zh": "zh_Hans_CN"}
NAMES = {"en": "English", "zh": "简体中文"}
CATALOGUE_DIR = Path(__file__).parent / "locale"

current: ContextVar[str] = ContextVar("hesuan_web_locale", default="en")


@functools.cache
def translations(locale: str) -> _gettext.NullTranslations:
    """Return the compiled catalogue of ``locale`` (English: the source strings themselves)."""
    if locale == "en":
        return _gettext.NullTranslations()
    po = CATALOGUE_DIR / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as f:
        catalog = read_po(f, locale="zh_Hans_CN")
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return _gettext.GNUTranslations(buf)


def gettext(message: str) -> str:
    """``message`` in the current locale."""
    return translations(current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Return the translation of ``singular``/``plural`` for ``n`` in the current locale."""
    return translations(current.get()).ngettext(singular, plural, n)


_ = gettext


def lazy(message: str) -> str:
    """Mark ``message`` for extraction where it is defined; translate it where shown."""
    return message


def pick(accept_language: str | None) -> str:
    """Return the UI locale for an ``Accept-Language`` header (``zh*`` → zh, else en)."""
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh"
        if tag.startswith("en"):
            return "en"
    return "en"


def number(value: float | int | None, digits: int = 2) -> str:
    """Format ``value`` with the locale's grouping and decimal signs, at most ``digits`` decimals.

    ``–`` for none. This is the only rounding of the web application, for display.
    """
    if value is None:
        return "–"
    fmt = "#,##0" + ("." + "#" * digits if digits > 0 else "")
    return format_decimal(value, format=fmt, locale=CLDR[current.get()])


def integer(value: int | None) -> str:
    """Format ``value`` with the locale's grouping (``–`` for none)."""
    return "–" if value is None else format_decimal(value, format="#,##0",
                                                     locale=CLDR[current.get()])


def percent(value: float | None, digits: int = 1) -> str:
    """``value`` (a share, 0–1) as a percentage."""
    if value is None:
        return "–"
    return format_percent(value, format="#,##0." + "0" * digits + " %",
                          locale=CLDR[current.get()])


def day(value: str | date | datetime | None) -> str:
    """Return a date (or the date of an ISO timestamp) in the locale's medium format."""
    if value is None or value == "":
        return "–"
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return str(value)
    if isinstance(value, datetime):
        return format_date(value.date(), format="medium", locale=CLDR[current.get()])
    return format_date(value, format="medium", locale=CLDR[current.get()])


def moment(value: str | datetime | None) -> str:
    """Return a timestamp in the locale's medium format (UTC)."""
    if value is None or value == "":
        return "–"
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return str(value)
    return format_datetime(value, format="medium", locale=CLDR[current.get()])


def language_name(locale: str) -> str:
    """Return the name of ``locale`` in its own language."""
    return Locale.parse(CLDR[locale]).display_name or locale
