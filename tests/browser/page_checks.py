"""What the browser tests check on any page: axe-core, horizontal scroll at phone width, screenshots.

axe-core comes with axe-playwright-python (its axe.min.js is in the wheel, next to the module),
so nothing is fetched at run time; it is injected into the page under test and run there.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

SCREENSHOTS = Path(os.environ.get("PB_SCREENSHOT_DIR") or Path(__file__).resolve().parent / "screenshots")
SERIOUS = ("serious", "critical")
LOCALES = ("en", "zh-TW")  # the resident pages' languages: parametrize `locale` with these
PHONE_MAX_WIDTH = 480   # a viewport this narrow or narrower is "phone" in screenshot names


# The two viewports the tests use: a laptop, and a small Android phone held upright.
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}


def new_context(browser, base_url: str, *, locale: str = "en", phone: bool = False):
    """A fresh browser context (own cookies) on `base_url`, sending Accept-Language: `locale`.

    The `page` fixtures are made with this; call it yourself for a second visitor in the same
    test (e.g. another resident who endorses), and close it when done. `context.pb_errors`
    collects uncaught script errors and Content-Security-Policy refusals of its pages
    (check_page_errors(context) fails on them; the fixtures call it after each test).
    """
    context = browser.new_context(base_url=base_url, locale=locale, timezone_id="Asia/Taipei",
                                  reduced_motion="reduce", **(PHONE if phone else DESKTOP))
    context.set_default_timeout(10_000)
    context.set_default_navigation_timeout(30_000)
    context.pb_errors = []
    context.on("weberror", lambda e: context.pb_errors.append(f"uncaught script error: {e.error}"))
    context.on("console", lambda m: context.pb_errors.append(f"{m.text} (at {m.location.get('url')})")
               if m.type == "error" and "Content Security Policy" in m.text else None)
    return context


def check_page_errors(context) -> None:
    errors = getattr(context, "pb_errors", [])
    assert not errors, "the pages raised script errors or broke the Content-Security-Policy:\n" + "\n".join(errors)


def axe_violations(page, *, impacts=SERIOUS, context=None, disable: tuple[str, ...] = ()) -> list[dict]:
    """axe-core's violations on the page as it is now, of the given impacts (default serious and critical)."""
    from axe_playwright_python.sync_playwright import Axe

    options = {"resultTypes": ["violations"]}
    if disable:
        options["rules"] = {rule: {"enabled": False} for rule in disable}
    results = Axe().run(page, context=context, options=options)
    return [v for v in results.response["violations"] if v.get("impact") in impacts]


def describe_violations(violations: list[dict], max_nodes: int = 8) -> str:
    """One block per violation: id, impact, help, rule URL, then each node's CSS target and why it fails."""
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v.get('impact')}): {v['help']} [{v.get('helpUrl', '')}]")
        for node in v["nodes"][:max_nodes]:
            target = " ".join(str(t) for t in node.get("target", []))
            why = (node.get("failureSummary") or "").replace("Fix any of the following:", "").strip()
            why = re.sub(r"\s+", " ", why)
            lines.append(f"    {target}: {why}" if why else f"    {target}")
        if len(v["nodes"]) > max_nodes:
            lines.append(f"    ... and {len(v['nodes']) - max_nodes} more")
    return "\n".join(lines)


def assert_no_serious_axe(page, *, context=None, disable: tuple[str, ...] = ()) -> None:
    """Fail listing every serious or critical axe-core violation (rule id, help, offending nodes)."""
    violations = axe_violations(page, context=context, disable=disable)
    assert not violations, (f"axe-core: {len(violations)} serious/critical violation(s) on {page.url} "
                            f"({viewport_name(page)}, {locale_of(page)}):\n{describe_violations(violations)}")


def horizontal_overflow(page, width: int) -> dict:
    """The document's scroll width, with the elements whose right edge passes `width` (widest first)."""
    return page.evaluate("""(width) => {
        const out = [];
        for (const el of document.body.querySelectorAll('*')) {
            const r = el.getBoundingClientRect();
            if (r.right > width + 0.5 && r.width > 0) {
                const id = el.id ? '#' + el.id : '';
                const cls = typeof el.className === 'string' && el.className.trim()
                    ? '.' + el.className.trim().split(/\\s+/).join('.') : '';
                out.push({el: el.tagName.toLowerCase() + id + cls, right: Math.round(r.right)});
            }
        }
        out.sort((a, b) => b.right - a.right);
        return {scrollWidth: document.documentElement.scrollWidth, offenders: out.slice(0, 10)};
    }""", width)


def assert_no_horizontal_scroll(page, width: int = 360) -> None:
    """At `width` px (the phone viewport), the page must not scroll sideways."""
    viewport = (page.viewport_size or {}).get("width")
    assert viewport == width, f"the page's viewport is {viewport} px wide, not {width}: use phone_page"
    info = horizontal_overflow(page, width)
    offenders = ", ".join(f"{o['el']} (right edge {o['right']})" for o in info["offenders"]) or "nothing visible"
    assert info["scrollWidth"] <= width, (f"{page.url} scrolls sideways at {width} px: document scrollWidth is "
                                          f"{info['scrollWidth']}; sticking out: {offenders}")


def viewport_name(page) -> str:
    size = page.viewport_size or {"width": 0}
    return "phone" if size["width"] <= PHONE_MAX_WIDTH else "desktop"


def locale_of(page) -> str:
    return page.evaluate("navigator.language")


def shot(page, name: str) -> Path:
    """A full-page PNG in the git-ignored screenshots folder: <name>-<desktop|phone>-<locale>.png."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", name):
        raise ValueError(f"screenshot names are lowercase letters, digits, '-' and '_' (got {name!r})")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}-{viewport_name(page)}-{locale_of(page)}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
