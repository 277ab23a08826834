"""Languages of the pages: Flask-Babel with `en` and `zh-TW` catalogues; money and dates via Babel.

The language comes from, in order: the visitor's choice (the switch on every page, kept in the
`pb_lang` cookie), the browser's Accept-Language, the first locale of the city the page is about,
then English. `html_lang()` is what `<html lang>` says.

Catalogues: `api/translations/<locale>/LC_MESSAGES/messages.po` is the source (scripts/i18n
extracts and updates it); at start the app compiles each .po whose .mo is missing or older into
the instance folder, so a fresh clone needs no build step and the repository holds no binaries.

Misses: with `PB_I18N_STRICT` set (tests), every message looked up on a non-English page that the
catalogue lacks is recorded in `app.extensions["pb_i18n_misses"]`, so a crawl can fail on any
untranslated English.
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale, dates, numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, current_app, g, has_request_context, request
from flask_babel import Babel, get_locale, get_translations

from api.context import scope_city
from pb_engine.money import minor_digits

LANGUAGES = ("en", "zh_TW")                  # Babel's names
TAGS = {"en": "en", "zh_TW": "zh-TW"}         # BCP 47, for <html lang> and the switch
NAMES = {"en": "English", "zh_TW": "繁體中文"}  # each language in its own words
COOKIE = "pb_lang"
SOURCE = Path(__file__).parent / "translations"

babel = Babel()


def _from_tag(tag: str | None) -> str | None:
    if not tag:
        return None
    tag = tag.strip().replace("-", "_")
    for lang in LANGUAGES:
        if tag.lower() == lang.lower():
            return lang
    if tag.lower().startswith("zh"):
        return "zh_TW"  # the only Chinese we have: Traditional, as Taiwan's cities write
    if tag.lower().startswith("en"):
        return "en"
    return None


def select_locale() -> str:
    chosen = _from_tag(request.args.get("lang")) or _from_tag(request.cookies.get(COOKIE))
    if chosen:
        return chosen
    best = request.accept_languages.best_match(["en", "zh-TW", "zh-Hant", "zh", "zh-CN", "en-US", "en-GB"])
    if best:
        return _from_tag(best) or "en"
    city = scope_city()
    for tag in (city.locales if city is not None else []) or []:
        lang = _from_tag(tag)
        if lang:
            return lang
    return "en"


def current() -> str:
    """Our name of the page's language ("en" or "zh_TW"). Babel spells zh_TW as zh_Hant_TW."""
    loc = get_locale()
    if loc is None:
        return "en"
    return "zh_TW" if loc.language == "zh" else "en"


def html_lang() -> str:
    return TAGS.get(current(), "en")


# --- messages -----------------------------------------------------------------------

def _known(msgid: str, plural: str | None = None) -> bool:
    catalog = getattr(get_translations(), "_catalog", None)
    if catalog is None:
        return False
    return (msgid, 0) in catalog if plural else msgid in catalog


def _record_miss(msgid: str, plural: str | None = None) -> None:
    if not has_request_context() or not current_app.config.get("PB_I18N_STRICT"):
        return
    if current() == "en" or _known(msgid, plural):
        return
    current_app.extensions.setdefault("pb_i18n_misses", set()).add((current(), msgid, request.path))


def gettext(msgid: str, **values) -> str:
    _record_miss(msgid)
    text = get_translations().ugettext(msgid)
    return text % values if values else text


def ngettext(singular: str, plural: str, n: int, **values) -> str:
    _record_miss(singular, plural)
    values.setdefault("num", n)
    return get_translations().ungettext(singular, plural, n) % values


_ = gettext


# --- figures in the visitor's locale ----------------------------------------------

def money(minor: int | None, currency: str) -> str:
    """Integer minor units in the city's currency, worded for the visitor: NT$1,500,000 / $1,500,000.00."""
    if minor is None:
        return ""
    digits = minor_digits(currency)
    value = Decimal(minor).scaleb(-digits)
    fmt = None
    if value == value.to_integral_value():
        # Whole amounts read better without ".00" (budgets are whole in every demo city).
        fmt = Locale.parse(current()).currency_formats["standard"].pattern.split(";")[0].replace(".00", "")
    return numbers.format_currency(value, currency, format=fmt, locale=current(), currency_digits=fmt is None)


def money_major(value, currency: str) -> str:
    """A figure already in major units (outcome JSON: int or exact decimal text)."""
    if value is None or value == "":
        return ""
    exact = Fraction(str(value))  # ints, exact decimal text, or "p/q" for a share with no finite decimals
    return money(round(exact * 10 ** minor_digits(currency)), currency)


def number(value) -> str:
    if value is None or value == "":
        return ""
    return numbers.format_decimal(Decimal(str(value)), locale=current())


def percent(share) -> str:
    if share is None:
        return ""
    return numbers.format_percent(share, format="#,##0.#%", locale=current())


def _zone(tz: str | None) -> ZoneInfo:
    city = scope_city()
    return ZoneInfo(tz or (city.timezone if city is not None else "UTC"))


def datetime_text(dt: datetime | None, tz: str | None = None, fmt: str = "medium") -> str:
    if dt is None:
        return ""
    return dates.format_datetime(dt, format=fmt, tzinfo=_zone(tz), locale=current())


def date_text(dt: datetime | None, tz: str | None = None, fmt: str = "medium") -> str:
    if dt is None:
        return ""
    return dates.format_date(dt.astimezone(_zone(tz)), format=fmt, locale=current())


def timezone_name(tz: str) -> str:
    return dates.get_timezone_location(ZoneInfo(tz), locale=current(), return_city=True)


# --- start-up -----------------------------------------------------------------------

def _filled(string) -> bool:
    """A translation is there (a plural entry's string is a tuple of forms)."""
    return any(string) if isinstance(string, tuple) else bool(string)


def _parts(po: Path) -> list[Path]:
    """Catalogue parts beside messages.po (`<lang>/parts/*.po`): entries of work in progress, merged in
    at compile time until ./scripts/i18n folds them into messages.po."""
    return sorted((po.parent.parent / "parts").glob("*.po"))


def compile_catalogues(target: Path) -> Path:
    """Compile each .po into `target` when its .mo is missing or older (atomic: workers start together)."""
    for po in SOURCE.glob("*/LC_MESSAGES/messages.po"):
        lang = po.parent.parent.name
        parts = _parts(po)
        # Flask-Babel looks a language up by Babel's full name (zh_TW is zh_Hant_TW).
        mo = target / str(Locale.parse(lang)) / "LC_MESSAGES" / "messages.mo"
        newest = max(f.stat().st_mtime for f in [po, *parts])
        if mo.exists() and mo.stat().st_mtime >= newest:
            continue
        mo.parent.mkdir(parents=True, exist_ok=True)
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=lang)
        for part in parts:
            with part.open("rb") as fh:
                for message in read_po(fh, locale=lang):
                    if message.id and _filled(message.string) and not (catalog.get(message.id) and _filled(catalog.get(message.id).string)):
                        catalog[message.id] = message
        fd, tmp = tempfile.mkstemp(dir=mo.parent, suffix=".mo")
        with os.fdopen(fd, "wb") as out:
            write_mo(out, catalog, use_fuzzy=False)
        os.replace(tmp, mo)
    return target


def init_app(app: Flask) -> None:
    compiled = compile_catalogues(Path(app.instance_path) / "translations")
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "en")
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(compiled)
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_callables(gettext, ngettext, newstyle=True)
    app.jinja_env.globals.update(
        html_lang=html_lang, languages=[(TAGS[l], NAMES[l]) for l in LANGUAGES], current_language=current,
        money=money, money_major=money_major, number=number, percent=percent, datetime_text=datetime_text,
        date_text=date_text, timezone_name=timezone_name,
    )

    @app.after_request
    def _remember(response):
        chosen = _from_tag(request.args.get("lang"))
        if chosen and request.cookies.get(COOKIE) != chosen:
            response.set_cookie(COOKIE, chosen, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
        return response
