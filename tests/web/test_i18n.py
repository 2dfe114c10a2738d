"""The Chinese catalogue covers every UI string (no browser needed)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir

import hesuan.web
from hesuan.web import i18n

WEB = Path(hesuan.web.__file__).parent
METHOD_MAP = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n", "trim_blocks": "True",
                                    "lstrip_blocks": "True"}}


def extracted() -> set[str]:
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy": None}
    out = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(
            str(WEB), METHOD_MAP, OPTIONS, keywords=keywords):
        out.add(message if isinstance(message, str) else message[0])
    return out


def test_every_ui_string_has_a_chinese_translation() -> None:
    zh = i18n.translations("zh")
    messages = extracted()
    assert len(messages) > 300  # the extraction found the templates and modules
    untranslated = sorted(m for m in messages if zh.gettext(m) == m)
    assert untranslated == []


def test_numbers_and_dates_follow_the_locale() -> None:
    token = i18n.current.set("en")
    try:
        assert i18n.number(1234567.891, 2) == "1,234,567.89"
        assert i18n.day("2024-12-31") == "31 Dec 2024"  # CLDR en_GB medium date
    finally:
        i18n.current.reset(token)
    token = i18n.current.set("zh")
    try:
        assert i18n.number(1234567.891, 2) == "1,234,567.89"
        assert i18n.day("2024-12-31") == "2024年12月31日"  # CLDR zh_Hans_CN medium date
    finally:
        i18n.current.reset(token)
