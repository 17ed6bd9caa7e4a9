"""Pages everyone can read (issue 13): axe-core finds no violation on any page of the synthetic build
(after scrolling, so every figure has mounted), and every control of every figure works by keyboard:
Tab reaches each one in DOM order, its focus is visible, and it has an accessible name.

The default build (real models) gets the same axe check in tests/test_browser.py::test_default_site.
Counts per rule and page, and the controls each figure offers, go to tests/artifacts/a11y-synthetic.json.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from browser_support import PAGES, ARTIFACTS, PageWatch, axe_violations, browser, have_browser, serve, synthetic_site

ROOT = Path(__file__).resolve().parent.parent

needs_browser = pytest.mark.skipif(not have_browser(), reason="needs playwright and /usr/bin/chromium")

# what a keyboard can reach inside a figure; filtered in the page to enabled, rendered, tabIndex >= 0
FOCUSABLE = ("select, input:not([type=hidden]), button, textarea, summary, a[href], audio[controls], video[controls], "
             "[contenteditable=true], [tabindex]")


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    _, site = synthetic_site(tmp_path_factory.mktemp("a11y-synthetic"))
    with serve(site) as base, browser() as b:
        yield base, b


def _open(b, url, viewport=(1280, 900)):
    page = b.new_page(viewport={"width": viewport[0], "height": viewport[1]})
    w = PageWatch(page)
    page.goto(url)
    w.wait_figures()
    return w


def _record(key, value):
    ARTIFACTS.mkdir(exist_ok=True)
    f = ARTIFACTS / "a11y-synthetic.json"
    data = json.loads(f.read_text()) if f.exists() else {}
    data[key] = value
    f.write_text(json.dumps(data, indent=1, ensure_ascii=False))


@pytest.mark.browser
@needs_browser
@pytest.mark.parametrize("viewport", [(1280, 900), (390, 844)], ids=["desktop", "phone"])
def test_axe_every_page(synthetic, viewport):
    base, b = synthetic
    pages = PAGES if viewport[0] > 1000 else ["", "explorer/"]   # the phone layout: the drawer and one figure page
    found, counts = {}, {}
    for pg in pages:
        w = _open(b, base + pg, viewport)
        states = w.page.eval_on_selector_all("figure[data-figure]", "fs => fs.map(f => f.dataset.mounted)")
        assert all(s == "ready" for s in states), (pg, states)
        v = axe_violations(w.page)
        counts[pg or "index"] = {r: sum(1 for x in v if x.startswith(r + " ")) for r in sorted({x.split(" ")[0] for x in v})}
        if v:
            found[pg or "index"] = v
        assert w.errors == [], (pg, w.errors)
        w.page.close()
    _record(f"axe_{viewport[0]}x{viewport[1]}", counts)
    assert found == {}, json.dumps(found, indent=1)


def _figure_controls(page, fig_id):
    """Mark the keyboard-reachable controls of a figure (DOM order) with data-a11y-k; return their descriptions."""
    return page.evaluate("""([id, sel]) => {
        const fig = document.getElementById(id);
        const els = [...fig.querySelectorAll(sel)].filter(e => !e.disabled && e.tabIndex >= 0 && e.getClientRects().length > 0
            && getComputedStyle(e).visibility !== 'hidden' && !e.closest('[inert], [aria-hidden=true]'));
        return els.map((e, k) => { e.dataset.a11yK = String(k);
            return e.tagName.toLowerCase() + (e.type ? '[' + e.type + ']' : '') + (e.getAttribute('role') ? '[role=' + e.getAttribute('role') + ']' : '')
                   + (e.classList.length ? '.' + [...e.classList].join('.') : ''); }); }""", [fig_id, FOCUSABLE])


FOCUS_STATE = """() => { const e = document.activeElement, cs = getComputedStyle(e);
    let op = 1; for (let a = e; a; a = a.parentElement) op *= +getComputedStyle(a).opacity;
    return {k: e.dataset ? e.dataset.a11yK ?? null : null, visible: e.matches(':focus-visible'),
            ring: (cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) >= 1) || cs.boxShadow !== 'none', opacity: op,
            where: e.tagName + '.' + e.className }; }"""


@pytest.mark.browser
@needs_browser
@pytest.mark.parametrize("pg", PAGES)
def test_keyboard_reaches_every_figure_control(synthetic, pg):
    from playwright.sync_api import expect

    base, b = synthetic
    w = _open(b, base + pg)
    p = w.page
    figs = p.eval_on_selector_all("figure[data-figure]", "fs => fs.map(f => f.id)")
    # no positive tabindex anywhere (it would pull an element out of DOM order)
    assert p.evaluate("() => [...document.querySelectorAll('[tabindex]')].filter(e => e.tabIndex > 0).length") == 0
    record = {}
    for fid in figs:
        controls = _figure_controls(p, fid)
        record[fid] = controls
        # start on the figure itself, then Tab through: each control in DOM order, then out of the figure
        p.evaluate("(id) => { const f = document.getElementById(id); f.tabIndex = -1; f.focus(); }", fid)
        for k, what in enumerate(controls):
            p.keyboard.press("Tab")
            st = p.evaluate(FOCUS_STATE)
            assert st["k"] == str(k), (pg, fid, k, what, "focus went to", st["where"])
            assert st["visible"] and st["ring"], (pg, fid, what, "no visible focus ring", st)
            if st["opacity"] < 0.99:   # Plotly's modebar fades in (0.3 s) when one of its buttons takes focus
                p.wait_for_function("() => { let op = 1; for (let a = document.activeElement; a; a = a.parentElement)"
                                    " op *= +getComputedStyle(a).opacity; return op > 0.99; }", timeout=3000)
            expect(p.locator(f"#{fid} [data-a11y-k='{k}']")).to_have_accessible_name(re.compile(r"\w"), timeout=2000)
        p.keyboard.press("Tab")
        assert not p.evaluate("(id) => document.getElementById(id).contains(document.activeElement)", fid), (pg, fid)
        p.evaluate("(id) => document.getElementById(id).removeAttribute('tabindex')", fid)
        assert controls, (pg, fid, "a figure without a single keyboard stop")
    _record("controls_" + (pg.strip("/") or "index"), record)
    assert w.errors == [], w.errors
    p.close()


@pytest.mark.browser
@needs_browser
def test_focus_ring_screenshots(synthetic):
    """Screenshots of the keyboard focus ring on a select, the heatmap and a modebar button (tests/artifacts)."""
    base, b = synthetic
    w = _open(b, base + "explorer/")
    p = w.page
    ARTIFACTS.mkdir(exist_ok=True)
    for name, sel in [("select", "#explorer-main .fx-controls select"), ("heatmap", "#explorer-main .fx-heat"),
                      ("modebar", "#explorer-main .fx-scatter .modebar-btn[data-title='Zoom in']")]:
        p.evaluate("(s) => { const e = document.querySelector(s); e.scrollIntoView({block: 'center'}); }", sel)
        # focus the element before it, then Tab, so the focus is a keyboard focus (:focus-visible)
        p.evaluate("""([s, focusable]) => { const all = [...document.querySelectorAll(focusable)]
                   .filter(e => e.tabIndex >= 0 && !e.disabled && e.getClientRects().length);
                   all[all.indexOf(document.querySelector(s)) - 1].focus(); }""", [sel, FOCUSABLE])
        p.keyboard.press("Tab")
        p.wait_for_timeout(400)
        assert p.evaluate("(s) => document.activeElement === document.querySelector(s)", sel), name
        box = p.evaluate("(s) => { const r = document.querySelector(s).closest('.fx-controls, .fx-grid').getBoundingClientRect();"
                         " return {x: r.left, y: r.top, width: r.width, height: r.height}; }", sel)
        p.screenshot(path=str(ARTIFACTS / f"a11y-focus-{name}.png"),
                     clip={"x": max(0, box["x"] - 8), "y": max(0, box["y"] - 8), "width": box["width"] + 16,
                           "height": min(box["height"] + 16, 500)})
    p.close()


def test_search_dialog_override_tracks_the_theme():
    """article/overrides/partials/search.html is the installed theme's partial plus one aria-label."""
    import material

    theirs = (Path(material.__file__).parent / "templates" / "partials" / "search.html").read_text(encoding="utf-8")
    ours = (ROOT / "article" / "overrides" / "partials" / "search.html").read_text(encoding="utf-8")
    strip_comment = re.compile(r"\A\{#-.*?-#\}\n", re.S)
    expected = strip_comment.sub("", theirs).replace(
        'role="dialog">', 'role="dialog" aria-label="{{ lang.t(\'search\') }}">', 1)
    assert strip_comment.sub("", ours) == expected, (
        "mkdocs-material's partials/search.html changed: copy it again into article/overrides/partials/ "
        "and add the dialog's aria-label (or drop the override if the theme names the dialog itself)")
    # the only other override is this one: the site is otherwise the theme's own
    assert sorted(str(p.relative_to(ROOT / "article" / "overrides"))
                  for p in (ROOT / "article" / "overrides").rglob("*") if p.is_file()) == ["partials/search.html"]
