"""The pages in a real browser: Debian's chromium driven by Playwright against a real uvicorn
server on a free port, over a SQLite database the library loaded (vocabulary, TIGIT trials,
profile). Screenshots of the main pages go to ``tests/artifacts/screenshots/``.

Never downloads a browser: ``/usr/bin/chromium`` or the tests are skipped.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from drugradar.alerts import subscriptions as subs
from drugradar.alerts.users import create_user, user_by_email
from drugradar.api.app import create_app
from drugradar.resolve import Resolver
from drugradar.store import make_engine, migrate

from .conftest import ROOT
from .web_data import PASSWORD, load_web_data

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ROOT / "tests" / "artifacts" / "screenshots"
EMAIL = "browser@example.org"
TVEC = "Talimogene laherparepvec"
MELANOMA = "D008545"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.xdist_group("browser"),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The base URL of a running server, and the database URL behind it."""
    import uvicorn

    tmp = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{tmp / 'web.db'}"
    engine = make_engine(url)
    migrate(engine)
    load_web_data(engine, tmp)
    create_user(engine, EMAIL, PASSWORD)
    engine.dispose()
    port = free_port()
    app = create_app(url, migrate_schema=False)
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", url
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser, server: tuple[str, str]) -> Iterator[Page]:
    context = browser.new_context(base_url=server[0], viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    context.close()
    assert not errors, f"JavaScript errors: {errors}"


def shot(pg: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def log_in(pg: Page) -> None:
    pg.goto("/login")
    pg.fill("input[name=email]", EMAIL)
    pg.fill("input[name=password]", PASSWORD)
    pg.click("#login-form button[type=submit]")
    pg.wait_for_url("**/")


def test_search_drug_page_set_alert_my_alerts(page: Page, server: tuple[str, str]) -> None:
    pg = page
    log_in(pg)
    pg.goto("/search")
    pg.locator("#q").press_sequentially("T-VEC", delay=40)
    first = pg.locator("#suggestions .suggestion").first
    expect(first).to_contain_text(TVEC)
    expect(first).to_contain_text("matched")
    expect(first).to_contain_text("T-Vec")
    shot(pg, "search-suggestions")
    first.click()
    pg.wait_for_url("**/drugs/DR*")
    expect(pg.locator("h1")).to_have_text(TVEC)
    for section, title in (
        ("used-for", "What it is used for"),
        ("how-it-works", "How it works"),
        ("how-given", "How it is given"),
        ("side-effects", "Side effects"),
        ("contraindications", "Contraindications"),
        ("interactions", "Interactions"),
        ("status", "R&D status"),
        ("timeline", "Timeline"),
    ):
        expect(pg.locator(f"#{section} h2")).to_have_text(title)
    expect(pg.locator(".summary")).to_contain_text("oncolytic virus")
    shot(pg, "drug")
    pg.click("a.alert-button")
    pg.wait_for_url("**/alerts/new?kind=drug*")
    pg.check("input[name=families][value=dev_status]")
    pg.check("input[name=frequency][value=immediate]")
    pg.fill("input[name=name]", "T-VEC watch")
    pg.click("#alert-form button[type=submit]")
    pg.wait_for_url("**/alerts?created=*")
    sub = pg.locator(".sub", has_text="T-VEC watch")
    expect(sub).to_contain_text(TVEC)
    expect(sub).to_contain_text("immediate")
    shot(pg, "alerts")
    engine = make_engine(server[1])
    user = user_by_email(engine, EMAIL)
    assert user is not None
    made = [s for s in subs.list_subscriptions(engine, user.id) if s.name == "T-VEC watch"]
    assert made and made[0].families == ["dev_status"]
    engine.dispose()


def test_keyboard_navigation_of_suggestions(page: Page, server: tuple[str, str]) -> None:
    pg = page
    pg.goto("/")
    box = pg.locator("#q")
    box.press_sequentially("imlygic", delay=40)
    expect(pg.locator("#suggestions .suggestion").first).to_contain_text(TVEC)
    box.press("ArrowDown")
    expect(pg.locator("#suggestions .suggestion.active")).to_have_count(1)
    assert box.get_attribute("aria-activedescendant") == "sugg-1"
    box.press("Enter")
    pg.wait_for_url("**/drugs/DR*")
    engine = make_engine(server[1])
    best = Resolver(engine).resolve("Imlygic").best
    engine.dispose()
    assert best is not None and pg.url.endswith(f"/drugs/{best.drug_id}")


def test_search_results_page(page: Page) -> None:
    pg = page
    pg.goto("/search?q=tiragolumab")
    expect(pg.locator(".results-table tbody tr").first).to_contain_text("Tiragolumab")
    pg.goto("/search?phase=PHASE_3&sort=phase")
    expect(pg.locator(".facets")).to_contain_text("Phase 3 or later")
    shot(pg, "search")


def test_landscape_chart_renders(page: Page) -> None:
    pg = page
    pg.goto(f"/landscape/disease/{MELANOMA}")
    pg.wait_for_function("() => window.landscapeChart !== undefined")
    drawn = pg.evaluate(
        """() => {
            const canvas = document.getElementById('phase-chart');
            const chart = Chart.getChart(canvas);
            const ctx = canvas.getContext('2d');
            const px = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
            let painted = 0;
            for (let i = 3; i < px.length; i += 4) if (px[i] > 0) painted++;
            return {chart: !!chart, bars: chart.data.datasets[0].data.reduce((a, b) => a + b, 0),
                    painted: painted, width: canvas.width};
        }"""
    )
    assert drawn["chart"] and drawn["bars"] > 0 and drawn["width"] > 0
    assert drawn["painted"] > 1000, drawn
    # the status table sorts on click
    first_before = pg.locator("table.sortable tbody tr").first.inner_text()
    pg.click("table.sortable th:first-child")
    assert pg.locator("table.sortable th:first-child").get_attribute("aria-sort") == "ascending"
    assert first_before  # the table has rows
    shot(pg, "landscape")


def test_drug_page_on_a_phone_has_no_horizontal_scroll(
    browser: Browser, server: tuple[str, str]
) -> None:
    context = browser.new_context(
        base_url=server[0], viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    pg = context.new_page()
    for name, path in (
        ("status-phone", "/drugs/tiragolumab"),
        ("landscape-phone", f"/landscape/disease/{MELANOMA}"),
        ("search-phone", "/search?q=nivolumab"),
        ("drug-phone", "/drugs/T-VEC"),
    ):
        pg.goto(path)
        overflow = pg.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, (path, overflow)
        shot(pg, name)
    context.close()
