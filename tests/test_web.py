"""The web pages in process (TestClient) on both backends: every page renders from the real
fixture data, source and user text is escaped, POST forms need the session's CSRF token,
per-user pages show only their owner's data, log-in and log-out, friendly 404 pages.

One database per backend and module (vocabulary, TIGIT trials, FDA/EMA/labels/DDI profile);
tests that write make their own users.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert, select

from drugradar.alerts import subscriptions as subs
from drugradar.alerts.users import create_user
from drugradar.api.app import create_app
from drugradar.model.subscription import User
from drugradar.resolve import Resolver
from drugradar.store import migrate
from drugradar.store.schema import delivery, event, subscription

from .conftest import Database
from .web_data import PASSWORD, SHARED, load_web_data

TVEC = "Talimogene laherparepvec"
MELANOMA = "D008545"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="module")
def web_db(
    backend: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Database]:
    d = Database(backend, tmp_path_factory.mktemp("web"), request.config.getoption("pg_url"))
    migrate(d.engine)
    load_web_data(d.engine, tmp_path_factory.mktemp("webdata"))
    yield d
    d.drop()


@pytest.fixture(scope="module")
def app_engine(web_db: Database) -> Iterator[tuple[TestClient, Engine]]:
    app = create_app(web_db.url, migrate_schema=False)
    with TestClient(app) as client:
        yield client, app.state.engine


@pytest.fixture
def engine(app_engine: tuple[TestClient, Engine]) -> Engine:
    return app_engine[1]


@pytest.fixture
def client(app_engine: tuple[TestClient, Engine]) -> Iterator[TestClient]:
    """A fresh browser (no cookies) on the module's app."""
    c = app_engine[0]
    c.cookies.clear()
    yield c
    c.cookies.clear()


def new_user(engine: Engine) -> User:
    return create_user(engine, f"u{uuid.uuid4().hex[:10]}@example.org", PASSWORD)


def token(client: TestClient, path: str = "/login") -> str:
    found = CSRF.search(client.get(path).text)
    assert found, f"no CSRF field on {path}"
    return found.group(1)


def log_in(client: TestClient, user: User) -> str:
    """Log ``user`` in through the form; the session's new CSRF token."""
    r = client.post(
        "/login",
        data={"csrf_token": token(client), "email": user.email, "password": PASSWORD},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return token(client, "/keys")


def tvec_id(engine: Engine) -> str:
    best = Resolver(engine).resolve("T-VEC").best
    assert best is not None
    return best.drug_id


# -- public pages ----------------------------------------------------------------------------
def test_public_pages_render(client: TestClient, engine: Engine) -> None:
    for path in (
        "/",
        "/search",
        "/search?q=tiragolumab&sort=phase",
        "/search?phase=PHASE_3&modality=antibody&sort=name",
        f"/search?indication={MELANOMA}&sort=modality",
        "/events",
        "/events?family=dev_status&materiality=high&since=2020-01-01",
        "/events?drug=Imlygic",
        "/interactions",
        "/landscape/target/PDCD1",
        f"/landscape/disease/{MELANOMA}",
        f"/landscape/disease/{MELANOMA}?include=all&country=United+States",
        "/landscape/organization/Genentech",
        "/login",
    ):
        r = client.get(path)
        assert r.status_code == 200, (path, r.text[:500])
        assert r.headers["content-type"].startswith("text/html")
        assert '<meta name="viewport"' in r.text
        assert "https://cdn" not in r.text and "unpkg" not in r.text


def test_search_suggestions_show_the_matched_alias(client: TestClient, engine: Engine) -> None:
    r = client.get("/search/suggest", params={"q": "T-VEC"})
    assert r.status_code == 200
    assert TVEC in r.text and "T-Vec" in r.text and f"/drugs/{tvec_id(engine)}" in r.text
    typo = client.get("/search/suggest", params={"q": "imlygc"}).text  # one letter missing
    assert TVEC in typo and "IMLYGIC" in typo
    assert "No drug name matches" in client.get("/search/suggest", params={"q": "zzqqxx"}).text


def test_search_results_facets_sort_export_and_alert(client: TestClient) -> None:
    r = client.get("/search", params={"q": "T-VEC"})
    assert TVEC in r.text and "oncolytic virus" in r.text
    assert "/api/drugs/export.csv?q=T-VEC" in r.text
    assert "/alerts/new?kind=search&amp;q=T-VEC" in r.text
    page = client.get("/search", params={"phase": "PHASE_3", "sort": "phase"}).text
    assert "Phase 3 or later" in page and "Approved" in page
    count = int(re.search(r"<strong>(\d+)</strong> drug", page).group(1))  # type: ignore[union-attr]
    assert count > 0
    approved = client.get("/search", params={"phase": "APPROVED"}).text
    n_approved = int(re.search(r"<strong>(\d+)</strong> drug", approved).group(1))  # type: ignore[union-attr]
    assert 0 < n_approved <= count
    bad = client.get("/search", params={"phase": "PHASE_9"})
    assert bad.status_code == 400 and "Unknown phase" in bad.text


def test_drug_page_reads_like_an_article(client: TestClient, engine: Engine) -> None:
    did = tvec_id(engine)
    r = client.get("/drugs/T-VEC", follow_redirects=False)
    assert r.status_code == 307 and r.headers["location"] == f"/drugs/{did}"
    page = client.get(f"/drugs/{did}").text
    for title in (
        "What it is used for",
        "How it works",
        "How it is given",
        "Side effects",
        "Contraindications",
        "Interactions",
        "R&amp;D status",
        "Timeline",
        "Freshness",
    ):
        assert title in page, title
    assert f"/alerts/new?kind=drug&amp;ref={did}" in page
    assert "is an oncolytic virus" in page
    if (SHARED / "ema").is_dir():
        assert "first approved on 2015-12-16 (EMA, Imlygic)" in page
        assert "mainly for Melanoma" in page
        assert "EMA medicines, 2025-03-01" in page  # a section cites its source with a date
        assert "Amgen Europe B.V." in page
    assert 'class="sev sev-major"' in page  # DDInter: T-VEC and imatinib, major
    assert f"/interactions?drugs={did}," in page
    assert "DDInter" in page


def test_drug_page_quotes_the_label(client: TestClient) -> None:
    if not (SHARED / "fda" / "labels").is_dir():
        pytest.skip("../shared/data/fda/labels missing")
    page = client.get("/drugs/atorvastatin", follow_redirects=True).text
    assert "INDICATIONS AND USAGE" in page and "CONTRAINDICATIONS" in page
    assert "From the label: " in page and "DailyMed SPL" in page
    assert "ORAL".lower() in page


def test_status_table_and_timeline(client: TestClient) -> None:
    page = client.get("/drugs/tiragolumab", follow_redirects=True).text
    assert 'class="sortable status-table"' in page
    assert "Carcinoma, Non-Small-Cell Lung" in page and "Hoffmann-La Roche" in page
    assert "https://clinicaltrials.gov/study/NCT04294810" in page
    assert 'class="tl-trial"' in page
    assert "ClinicalTrials.gov 2026-03-14" in page  # the freshness line


def test_landscape_embeds_chart_data_safely(client: TestClient) -> None:
    page = client.get(f"/landscape/disease/{MELANOMA}").text
    assert "/static/vendor/chart.umd.min.js" in page and '<canvas id="phase-chart"' in page
    raw = re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', page, re.S)
    assert raw is not None
    data = json.loads(raw.group(1))
    assert data["title"] == "Melanoma" and sum(data["counts"]) > 0
    assert len(data["labels"]) == len(data["counts"])
    assert TVEC in page


def test_interaction_checker(client: TestClient) -> None:
    page = client.get("/interactions", params={"drugs": "T-VEC, imatinib, nosuchdrugzz"}).text
    assert TVEC in page and "Imatinib" in page
    assert 'class="sev sev-major"' in page
    assert "No drug matches “nosuchdrugzz”" in page


def test_vendored_js_is_served_with_its_licence(client: TestClient) -> None:
    htmx = client.get("/static/vendor/htmx.min.js")
    chart = client.get("/static/vendor/chart.umd.min.js")
    assert htmx.status_code == chart.status_code == 200
    assert "Zero-Clause BSD" in htmx.text[:300]
    assert "Released under the MIT License" in chart.text[:300]
    assert client.get("/static/style.css").status_code == 200


def test_404_pages_are_friendly_html(client: TestClient) -> None:
    for path, words in (
        ("/drugs/nosuchdrugzzqq", "No drug is known by the name"),
        ("/landscape/target/NOSUCHGENE", "No target"),
        ("/landscape/planet/mars", "A landscape is of a target"),
    ):
        r = client.get(path)
        assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
        assert words in r.text and "<h1>Not found</h1>" in r.text


# -- escaping ---------------------------------------------------------------------------------
def test_user_and_source_text_is_escaped(client: TestClient, engine: Engine) -> None:
    user = new_user(engine)
    evil = "<script>alert('x')</script>"
    subs.add_subscription(engine, user.id, drugs=["T-VEC"], name=evil)
    log_in(client, user)
    page = client.get("/alerts").text
    assert evil not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    searched = client.get("/search", params={"q": evil}).text
    assert evil not in searched and "&lt;script&gt;" in searched
    suggest = client.get("/search/suggest", params={"q": evil}).text
    assert "<script>" not in suggest
    events = client.get("/events", params={"drug": evil}).text
    assert evil not in events


# -- log-in, CSRF, owners ---------------------------------------------------------------------
def test_login_and_logout(client: TestClient, engine: Engine) -> None:
    user = new_user(engine)
    r = client.get("/alerts", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Falerts"
    wrong = client.post(
        "/login",
        data={"csrf_token": token(client), "email": user.email, "password": "not the one"},
    )
    assert wrong.status_code == 400 and "do not match an account" in wrong.text
    r = client.post(
        "/login",
        data={
            "csrf_token": token(client),
            "email": user.email,
            "password": PASSWORD,
            "next": "/alerts",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/alerts"
    page = client.get("/alerts")
    assert page.status_code == 200 and user.email in page.text and "Logout" in page.text
    tok = token(client, "/alerts")
    assert client.post("/logout", data={}, follow_redirects=False).status_code == 403
    out = client.post("/logout", data={"csrf_token": tok}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/alerts", follow_redirects=False).status_code == 303
    assert "Login" in client.get("/").text


def test_login_never_redirects_off_site(client: TestClient, engine: Engine) -> None:
    user = new_user(engine)
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        r = client.post(
            "/login",
            data={
                "csrf_token": token(client),
                "email": user.email,
                "password": PASSWORD,
                "next": target,
            },
            follow_redirects=False,
        )
        assert r.headers["location"] == "/", target
        client.cookies.clear()


def test_post_forms_need_the_csrf_token(client: TestClient, engine: Engine) -> None:
    user = new_user(engine)
    anon = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert anon.status_code == 403 and "did not come from this site" in anon.text
    tok = log_in(client, user)
    form = {"kind": "drug", "ref": "T-VEC", "inbox": "on", "frequency": "daily"}
    assert client.post("/alerts/new", data=form).status_code == 403
    assert client.post("/alerts/new", data={**form, "csrf_token": "forged"}).status_code == 403
    assert subs.list_subscriptions(engine, user.id) == []
    assert client.post("/keys", data={"name": "k"}).status_code == 403
    sub = subs.add_subscription(engine, user.id, drugs=["T-VEC"])
    assert client.post(f"/alerts/{sub.id}/delete", data={}).status_code == 403
    assert client.post("/inbox/read", data={"csrf_token": tok + "x"}).status_code == 403
    assert len(subs.list_subscriptions(engine, user.id)) == 1
    # a token from another session does not work either
    other = TestClient(client.app)
    other_token = token(other)
    r = client.post("/alerts/new", data={**form, "csrf_token": other_token})
    assert r.status_code == 403
    ok = client.post("/alerts/new", data={**form, "csrf_token": tok}, follow_redirects=False)
    assert ok.status_code == 303


def test_set_alert_my_alerts_pause_preview_delete(client: TestClient, engine: Engine) -> None:
    user = new_user(engine)
    did = tvec_id(engine)
    form_page = client.get(f"/alerts/new?kind=drug&ref={did}", follow_redirects=False)
    assert form_page.status_code == 303  # anonymous: to the log-in page
    tok = log_in(client, user)
    form_page = client.get(f"/alerts/new?kind=drug&ref={did}")
    assert form_page.status_code == 200 and f"Follow the drug {TVEC}" in form_page.text
    r = client.post(
        "/alerts/new",
        data={
            "csrf_token": tok,
            "kind": "drug",
            "ref": did,
            "families": ["dev_status", "approval"],
            "min_materiality": "medium",
            "frequency": "weekly",
            "hour": "7",
            "weekday": "2",
            "tz": "Europe/Paris",
            "inbox": "on",
            "feed": "on",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/alerts?created=")
    [sub] = subs.list_subscriptions(engine, user.id)
    assert sub.follows[0].ref == did and sub.families == ["dev_status", "approval"]
    assert sub.schedule.tz == "Europe/Paris" and sub.channels.feed and sub.channels.inbox
    page = client.get(r.headers["location"]).text
    assert "Alert saved." in page and TVEC in page and "weekly at 7:00 on Wednesday" in page
    assert f"/feeds/{sub.feed_secret}.atom" in page
    preview = client.get(f"/alerts/{sub.id}/preview?days=5000")
    assert preview.status_code == 200 and "Preview:" in preview.text
    assert client.post(f"/alerts/{sub.id}/pause", data={"csrf_token": tok}).status_code == 200
    assert subs.get_subscription(engine, user.id, sub.id).paused
    assert "Resume" in client.get("/alerts").text
    client.post(f"/alerts/{sub.id}/resume", data={"csrf_token": tok})
    assert not subs.get_subscription(engine, user.id, sub.id).paused
    client.post(f"/alerts/{sub.id}/delete", data={"csrf_token": tok})
    assert subs.list_subscriptions(engine, user.id) == []


def test_set_alert_on_a_search_and_a_landscape(client: TestClient, engine: Engine) -> None:
    user = new_user(engine)
    tok = log_in(client, user)
    page = client.get("/alerts/new?kind=search&q=tira&phase=PHASE_2").text
    assert "the search q=tira, phase=PHASE_2" in page
    assert 'name="search_phase" value="PHASE_2"' in page
    client.post(
        "/alerts/new",
        data={
            "csrf_token": tok,
            "kind": "search",
            "search_q": "tira",
            "search_phase": "PHASE_2",
            "inbox": "on",
            "frequency": "daily",
        },
    )
    client.post(
        "/alerts/new",
        data={"csrf_token": tok, "kind": "disease", "ref": MELANOMA, "inbox": "on"},
    )
    made = subs.list_subscriptions(engine, user.id)
    assert [s.search for s in made] == [{"text": "tira", "phase": "PHASE_2"}, None]
    assert made[1].follows[0].ref == MELANOMA
    bad = client.post(
        "/alerts/new",
        data={"csrf_token": tok, "kind": "target", "ref": "NOSUCHGENE", "inbox": "on"},
    )
    assert bad.status_code == 400 and "No target has the gene symbol" in bad.text
    none = client.post("/alerts/new", data={"csrf_token": tok, "kind": "drug", "ref": "T-VEC"})
    assert none.status_code == 400 and "at least one channel" in none.text


def _deliver(engine: Engine, user: User, sub_id: int) -> int:
    """An inbox delivery of a stored event to ``user`` (as matching would make it)."""
    with engine.begin() as conn:
        ev = conn.execute(select(event.c.id).order_by(event.c.id).limit(1)).scalar_one()
        return int(
            conn.execute(
                insert(delivery)
                .values(
                    user_id=user.id,
                    subscription_id=sub_id,
                    event_id=ev,
                    channel="inbox",
                    status="sent",
                    created_at=datetime.now(UTC),
                )
                .returning(delivery.c.id)
            ).scalar_one()
        )


def test_per_user_pages_show_only_their_owner(client: TestClient, engine: Engine) -> None:
    alice, bob = new_user(engine), new_user(engine)
    a_sub = subs.add_subscription(engine, alice.id, drugs=["T-VEC"], name="alice follows T-VEC")
    a_delivery = _deliver(engine, alice, a_sub.id)
    from drugradar.alerts.users import create_api_key

    _key, a_key = create_api_key(engine, alice.id, "alice key")
    tok = log_in(client, bob)
    assert "alice follows T-VEC" not in client.get("/alerts").text
    assert client.get(f"/alerts/{a_sub.id}/preview").status_code == 404
    for action in ("pause", "delete"):
        r = client.post(f"/alerts/{a_sub.id}/{action}", data={"csrf_token": tok})
        assert r.status_code == 404 and "You have no subscription" in r.text
    assert not subs.get_subscription(engine, alice.id, a_sub.id).paused
    inbox = client.get("/inbox").text
    assert "Nothing yet" in inbox
    client.post("/inbox/read", data={"csrf_token": tok, "id": str(a_delivery)})
    with engine.connect() as conn:
        read_at = conn.execute(
            select(delivery.c.read_at).where(delivery.c.id == a_delivery)
        ).scalar_one()
    assert read_at is None
    assert "alice key" not in client.get("/keys").text
    r = client.post(f"/keys/{a_key.id}/revoke", data={"csrf_token": tok})
    assert r.status_code == 404
    with engine.connect() as conn:
        assert (
            conn.execute(
                select(subscription.c.deleted).where(subscription.c.id == a_sub.id)
            ).scalar_one()
            is False
        )


def test_inbox_unread_marker(client: TestClient, engine: Engine) -> None:
    user = new_user(engine)
    sub = subs.add_subscription(engine, user.id, drugs=["T-VEC"])
    _deliver(engine, user, sub.id)
    tok = log_in(client, user)
    page = client.get("/inbox").text
    assert "1 unread" in page and 'class="unread' in page
    client.post("/inbox/read", data={"csrf_token": tok})
    page = client.get("/inbox").text
    assert "unread</span>" not in page and 'class="read' in page


def test_api_keys_page_shows_a_new_key_once(client: TestClient, engine: Engine) -> None:
    user = new_user(engine)
    tok = log_in(client, user)
    made = client.post("/keys", data={"csrf_token": tok, "name": "<b>notebook</b>"})
    key = re.search(r'id="new-key">([^<]+)<', made.text)
    assert made.status_code == 200 and key is not None and key.group(1).startswith("dr_")
    assert "&lt;b&gt;notebook&lt;/b&gt;" in made.text
    listing = client.get("/keys").text
    assert key.group(1) not in listing and "&lt;b&gt;notebook" in listing
    key_id = re.search(r"/keys/(\d+)/revoke", listing)
    assert key_id is not None
    client.post(f"/keys/{key_id.group(1)}/revoke", data={"csrf_token": tok})
    assert "revoked" in client.get("/keys").text


def test_nul_characters_never_reach_the_database(client: TestClient) -> None:
    """PostgreSQL refuses NUL in text: the pages drop it instead of failing."""
    for path in (
        "/search?q=T-V%00EC",
        "/search/suggest?q=T-V%00EC",
        "/drugs/T-V%00EC",
        "/events?drug=imly%00gic",
        "/interactions?drugs=T-VEC,ima%00tinib",
        "/landscape/organization/gen%00entech",
    ):
        r = client.get(path)
        assert r.status_code in (200, 307, 404), (path, r.status_code)
        assert r.headers["content-type"].startswith("text/html"), path
    r = client.post(
        "/login", data={"csrf_token": token(client), "email": "a\x00@b.c", "password": "x"}
    )
    assert r.status_code == 400
