"""The JSON API in process (TestClient), on real SQLite and PostgreSQL databases loaded with real
fixture data (``api_data.build``): search with facets and cursor paging, suggestions, profiles by
any alias, landscapes, events, interactions, exports, subscriptions and the inbox with two users
and API keys, the Atom feed, the unsubscribe token, the rate limit, errors as JSON sentences.
"""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import feedparser
import openpyxl
import pytest
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner
from sqlalchemy import Engine, select

from drugradar.alerts.deliver import unsubscribe_url
from drugradar.alerts.match import match_engine
from drugradar.alerts.tokens import server_secret
from drugradar.alerts.users import list_api_keys, revoke_api_key
from drugradar.api.app import SESSION_COOKIE, create_app
from drugradar.model.devstatus import RANK, Phase
from drugradar.resolve import norm_key
from drugradar.search.query import SearchQuery, drug_ids
from drugradar.store.schema import disease_ancestor, event_concern, subscription
from drugradar.track.query import EventFilter, list_events

from .api_data import auth, build, is_sentence, new_user, page_through
from .conftest import Database

pytestmark = pytest.mark.xdist_group("api")

TVEC = "Talimogene laherparepvec"
PEMBRO = "Pembrolizumab"


@pytest.fixture(scope="module")
def api_db(
    backend: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Database]:
    tmp = tmp_path_factory.mktemp("api")
    d = Database(backend, tmp, request.config.getoption("pg_url"))
    build(d, tmp)
    yield d
    d.drop()


@pytest.fixture(scope="module")
def engine(api_db: Database) -> Engine:
    return api_db.engine


@pytest.fixture(scope="module")
def client(api_db: Database) -> Iterator[TestClient]:
    app = create_app(api_db.url, migrate_schema=False, rate_limit=0)
    with TestClient(app) as c:
        yield c


def drug_id_of(client: TestClient, name: str) -> str:
    r = client.get(f"/api/drugs/{name}")
    assert r.status_code == 200, r.text
    return str(r.json()["id"])


# -- search ------------------------------------------------------------------------------------


def test_search_pages_cover_the_result_set_exactly(client: TestClient, engine: Engine) -> None:
    with engine.connect() as c:
        expected = set(c.execute(drug_ids(SearchQuery())).scalars())
    first = client.get("/api/drugs", params={"limit": 5}).json()
    assert first["total"] == len(expected) > 500
    rows = page_through(client, "/api/drugs", limit=97)
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)) == len(expected) and set(ids) == expected
    names = [(r["preferred_name"].lower(), r["id"]) for r in rows if r["preferred_name"].isascii()]
    assert names == sorted(names)


def test_search_by_phase_sort_and_text(client: TestClient, engine: Engine) -> None:
    rows = page_through(client, "/api/drugs", q="mab", sort="-phase", limit=7)
    with engine.connect() as c:
        expected = set(c.execute(drug_ids(SearchQuery(text="mab"))).scalars())
    assert {r["id"] for r in rows} == expected and len(rows) == len(expected)
    ranks = [RANK[Phase(r["highest_phase"])] if r["highest_phase"] else -1 for r in rows]
    assert ranks == sorted(ranks, reverse=True) and ranks[0] >= RANK[Phase.PHASE_1]
    assert all("mab" in norm_key(r["matched_alias"]) for r in rows)
    relevance = client.get("/api/drugs", params={"q": "pembrolizumab", "limit": 3}).json()
    assert relevance["sort"] == "relevance"
    assert relevance["results"][0]["preferred_name"] == PEMBRO


def test_facets_count_what_each_filter_keeps(client: TestClient) -> None:
    body = client.get("/api/drugs", params={"q": "mab", "limit": 1}).json()
    total, facets = body["total"], body["facets"]
    assert sum(facets["modality"].values()) == total
    assert {"phase", "activity", "modality", "country"} <= set(facets)
    for name, values in (("phase", facets["phase"]), ("country", facets["country"])):
        for value, count in list(values.items())[:3]:
            narrowed = client.get("/api/drugs", params={"q": "mab", name: value, "limit": 1}).json()
            assert narrowed["total"] == count, (name, value)
    phases = list(facets["phase"])
    assert phases == sorted(phases, key=lambda p: -RANK[Phase(p)])
    counts = list(facets["phase"].values())
    assert counts == sorted(counts)  # "reached at least": fewer drugs at each later phase


def test_row_filters_hold_on_one_status_row(client: TestClient, engine: Engine) -> None:
    params = {"phase": "PHASE_3", "country": "Spain", "organization": "Roche"}
    body = client.get("/api/drugs", params=params).json()
    with engine.connect() as c:
        expected = set(c.execute(drug_ids(SearchQuery(**params))).scalars())
    assert {r["id"] for r in body["results"]} == expected and expected


def test_bad_search_values_are_400_sentences(client: TestClient) -> None:
    first = client.get("/api/drugs", params={"limit": 2}).json()
    for params in (
        {"phase": "PHASE_9"},
        {"modality": "spaceship"},
        {"activity": "dancing"},
        {"sort": "price"},
        {"sort": "relevance"},  # no text to be relevant to
        {"cursor": "not-a-cursor"},
        {"cursor": first["next_cursor"], "q": "mab"},  # another search's cursor
        {"cursor": base64.urlsafe_b64encode(b'{"s":"name","q":"x","k":[1,2]}').decode()},
    ):
        r = client.get("/api/drugs", params=params)
        assert r.status_code == 400 and is_sentence(r.json()), (params, r.text)
    r = client.get("/api/drugs", params={"limit": 0})
    assert r.status_code == 422 and is_sentence(r.json())


def test_suggestions_are_typo_tolerant_and_show_the_alias(client: TestClient) -> None:
    typo = client.get("/api/suggest", params={"q": "pembrolizumb"}).json()["suggestions"]
    assert typo[0]["preferred_name"] == PEMBRO and typo[0]["match_kind"] == "fuzzy"
    brand = client.get("/api/suggest", params={"q": "Imlyg"}).json()["suggestions"]
    assert brand[0]["preferred_name"] == TVEC and brand[0]["matched_alias"].lower() == "imlygic"
    code = client.get("/api/suggest", params={"q": "T-VEC"}).json()["suggestions"]
    assert code[0]["preferred_name"] == TVEC and code[0]["match_kind"] == "exact"
    many = client.get("/api/suggest", params={"q": "am"}).json()["suggestions"]
    assert 0 < len(many) <= 8 and len({s["drug_id"] for s in many}) == len(many)
    assert client.get("/api/suggest", params={"q": "!!"}).json()["suggestions"] == []


# -- profiles, landscapes, events ----------------------------------------------------------


def test_profile_by_any_alias(client: TestClient) -> None:
    by_brand = client.get("/api/drugs/Imlygic").json()
    by_code = client.get("/api/drugs/T-VEC").json()
    assert by_brand["id"] == by_code["id"] and by_brand["preferred_name"] == TVEC
    assert by_brand["resolved"]["matched_alias"].lower() == "imlygic"
    assert by_code["resolved"]["matched_alias"].lower() == "t-vec"
    by_id = client.get(f"/api/drugs/{by_brand['id']}").json()
    assert "resolved" not in by_id and by_id["modality"] == "oncolytic virus"
    for section in ("status", "approvals", "trials", "timeline", "interactions", "organizations"):
        assert section in by_id
    assert by_id["interactions"]["partners"] >= 5  # DDInter: T-VEC with live-vaccine cautions
    imatinib = client.get("/api/drugs/imatinib").json()
    assert any(a["agency"] == "FDA" for a in imatinib["approvals"])


def test_unknown_things_are_404_sentences(client: TestClient) -> None:
    for url in (
        "/api/drugs/xyzzyplugh",
        "/api/drugs/xyzzyplugh/events",
        "/api/trials/NCT00000000",
        "/api/targets/NOTAGENE1",
        "/api/organizations/No Such Company Ltd",
        "/api/diseases/D999999999",
        "/feeds/nosuchsecret.atom",
        "/no/such/page",
    ):
        r = client.get(url)
        assert r.status_code == 404 and is_sentence(r.json()), (url, r.text)
    r = client.delete("/api/drugs")
    assert r.status_code == 405 and is_sentence(r.json())


def test_events_filtered_newest_first(client: TestClient, engine: Engine) -> None:
    body = client.get("/api/events", params={"family": "clinical_trial", "limit": 500}).json()
    evs = body["events"]
    assert evs and all(e["family"] == "clinical_trial" and not e["baseline"] for e in evs)
    days = [e["as_of"] for e in evs]
    assert days == sorted(days, reverse=True)
    since = client.get("/api/events", params={"since": "2026-03-01", "limit": 500}).json()
    assert since["events"] and all(e["as_of"] >= "2026-03-01" for e in since["events"])
    high = client.get("/api/events", params={"min_materiality": "high", "limit": 500}).json()
    assert all(e["materiality"] == "high" for e in high["events"])
    typed = client.get("/api/events", params={"type": "approval.new_approval"}).json()
    assert typed["events"] and {e["type"] for e in typed["events"]} == {"new_approval"}
    for bad in ({"family": "gossip"}, {"type": "rumour"}):
        r = client.get("/api/events", params=bad)
        assert r.status_code == 400 and is_sentence(r.json())

    pembro = drug_id_of(client, PEMBRO)
    mine = client.get(f"/api/drugs/{PEMBRO}/events").json()["events"]
    lib = list_events(engine, EventFilter(concern=("drug", pembro)))
    assert [e["id"] for e in mine] == [e.id for e in lib] and mine
    assert [
        e["id"] for e in client.get("/api/events", params={"drug": "Keytruda"}).json()["events"]
    ] == [e.id for e in lib]
    assert all(e["sources"] and e["sources"][0]["url"] for e in mine)


def test_trial_and_landscapes(client: TestClient, engine: Engine) -> None:
    trial = client.get("/api/trials/nct04256421").json()
    assert trial["nct_id"] == "NCT04256421" and trial["phase"] == "PHASE_3"
    linked = {d["preferred_name"] for i in trial["interventions"] for d in i["drugs"]}
    assert "Tiragolumab" in linked
    assert trial["countries"] and any(p["role"] == "lead" for p in trial["parties"])

    pd1 = client.get("/api/targets/pdcd1").json()
    names = {d["preferred_name"] for d in pd1["drugs"]}
    assert {"Nivolumab", PEMBRO} <= names
    assert sum(b["drugs"] for b in pd1["by_phase"]) == len(pd1["drugs"])

    roche = client.get("/api/organizations/Roche").json()
    assert "Genentech, Inc." in roche["organization"]["subsidiaries"]
    orgs = {o for p in roche["pipeline"] for o in p["organizations"]}
    assert "Genentech, Inc." in orgs  # a subsidiary's programs are the parent's pipeline
    ranks = [RANK[Phase(p["phase"])] for p in roche["pipeline"]]
    assert ranks == sorted(ranks, reverse=True)
    assert client.get("/api/organizations/roche").json()["pipeline"] == roche["pipeline"]

    lung = client.get("/api/diseases/Lung Neoplasms").json()
    assert lung["disease"]["id"] == "D008175"
    with engine.connect() as c:
        nsclc_child = c.execute(
            select(disease_ancestor.c.disease_id).where(
                disease_ancestor.c.disease_id == "D002289",
                disease_ancestor.c.ancestor_id == "D008175",
            )
        ).first()
    assert nsclc_child is not None, "NSCLC is a child term of lung neoplasms in MeSH"
    nsclc = client.get("/api/diseases/D002289").json()
    assert {d["id"] for d in nsclc["drugs"]} <= {d["id"] for d in lung["drugs"]}
    assert len(lung["drugs"]) > len(client.get("/api/diseases/D002289").json()["drugs"]) > 0


def test_interaction_checker(client: TestClient) -> None:
    r = client.get("/api/interactions", params={"drugs": "Imlygic, imatinib,trastuzumab,xyzzy"})
    body = r.json()
    assert body["unresolved"] == ["xyzzy"]
    assert [d["preferred_name"] for d in body["drugs"][:3]] == [TVEC, "Imatinib", "Trastuzumab"]
    assert len(body["pairs"]) == 3  # every pair of the three known drugs
    first = body["pairs"][0]
    assert first["level"] == "major" and {first["name_a"], first["name_b"]} >= {TVEC}
    assert body["pairs"][-1]["level"] == "none"  # imatinib + trastuzumab: no source lists it
    r = client.get("/api/interactions", params={"drugs": "imatinib"})
    assert r.status_code == 400 and is_sentence(r.json())


# -- exports -------------------------------------------------------------------------------


def test_exports_hold_every_row(client: TestClient) -> None:
    params = {"q": "mab", "sort": "name"}
    paged = [r["id"] for r in page_through(client, "/api/drugs", limit=10, **params)]
    r = client.get("/api/drugs/export.csv", params=params)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["id"] for row in rows] == paged
    assert all("mab" in norm_key(row["matched_alias"]) for row in rows)

    data = json.loads(client.get("/api/drugs/export.json", params=params).content)
    assert [row["id"] for row in data] == paged

    x = client.get("/api/drugs/export.xlsx", params=params)
    wb = openpyxl.load_workbook(io.BytesIO(x.content), read_only=True)
    sheet = list(wb.active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert sheet[0][0] == "id" and [row[0] for row in sheet[1:]] == paged

    everything = client.get("/api/drugs/export.csv")
    total = client.get("/api/drugs", params={"limit": 1}).json()["total"]
    assert len(list(csv.DictReader(io.StringIO(everything.text)))) == total  # not one page
    r = client.get("/api/drugs/export.csv", params={"phase": "PHASE_9"})
    assert r.status_code == 400 and is_sentence(r.json())


# -- accounts, subscriptions, inbox, feed, unsubscribe -----------------------------------------


def test_api_keys_missing_invalid_revoked(client: TestClient, engine: Engine) -> None:
    user_id, key = new_user(engine)
    r = client.get("/api/subscriptions")
    assert r.status_code == 401 and is_sentence(r.json())
    for bad in ("dr_nothing", key[:-3] + "xyz", "Bearer"):
        r = client.get("/api/subscriptions", headers=auth(bad))
        assert r.status_code == 401 and is_sentence(r.json()), bad
    assert client.get("/api/subscriptions", headers=auth(key)).status_code == 200
    assert client.get("/api/subscriptions", headers={"X-API-Key": key}).status_code == 200
    (info,) = list_api_keys(engine, user_id)
    assert info.last_used_at is not None
    revoke_api_key(engine, user_id, info.id)
    r = client.get("/api/subscriptions", headers=auth(key))  # known to the cache: still refused
    assert r.status_code == 401 and is_sentence(r.json())


def test_subscriptions_crud_owner_only(client: TestClient, engine: Engine) -> None:
    _, alice = new_user(engine)
    _, bob = new_user(engine)
    r = client.post(
        "/api/subscriptions",
        headers=auth(alice),
        json={
            "drugs": ["Imlygic"],
            "families": ["dev_status", "clinical_trial"],
            "schedule": {"frequency": "weekly", "hour": 7, "weekday": 0, "tz": "Europe/Paris"},
            "channels": {"inbox": True, "feed": True},
        },
    )
    assert r.status_code == 201, r.text
    sub = r.json()
    sid = sub["id"]
    assert sub["follows"][0]["label"] == TVEC and sub["follows"][0]["alias"].lower() == "imlygic"
    assert sub["feed_url"].endswith(".atom") and sub["schedule"]["tz"] == "Europe/Paris"
    listed = client.get("/api/subscriptions", headers=auth(alice)).json()["subscriptions"]
    assert [s["id"] for s in listed] == [sid]
    assert client.get("/api/subscriptions", headers=auth(bob)).json()["subscriptions"] == []

    for method, url, body in (
        ("GET", f"/api/subscriptions/{sid}", None),
        ("PATCH", f"/api/subscriptions/{sid}", {"paused": True}),
        ("DELETE", f"/api/subscriptions/{sid}", None),
        ("GET", f"/api/subscriptions/{sid}/preview", None),
    ):
        r = client.request(method, url, headers=auth(bob), json=body)
        assert r.status_code == 404 and is_sentence(r.json()), (method, url)
    missing = client.get("/api/subscriptions/2147483647", headers=auth(alice)).json()
    others = client.get(f"/api/subscriptions/{sid}", headers=auth(bob)).json()
    assert others["error"] == missing["error"].replace("2147483647", str(sid))  # no leak

    paused = client.patch(f"/api/subscriptions/{sid}", headers=auth(alice), json={"paused": True})
    assert paused.json()["paused"] is True
    resumed = client.patch(f"/api/subscriptions/{sid}", headers=auth(alice), json={"paused": 0})
    assert resumed.json()["paused"] is False
    preview = client.get(f"/api/subscriptions/{sid}/preview", headers=auth(alice))
    assert preview.status_code == 200 and "events" in preview.json()
    assert client.delete(f"/api/subscriptions/{sid}", headers=auth(alice)).status_code == 204
    assert client.get(f"/api/subscriptions/{sid}", headers=auth(alice)).status_code == 404

    search = client.post(
        "/api/subscriptions",
        headers=auth(alice),
        json={"search": {"q": "mab", "phase": "PHASE_2"}, "name": "antibodies in phase 2"},
    )
    assert search.status_code == 201 and search.json()["search"] == {
        "text": "mab",
        "phase": "PHASE_2",
    }
    for body in (
        {"drugs": ["no such drug xyzzy"]},
        {"targets": ["NOTAGENE1"]},
        {},
        {"drugs": [PEMBRO], "families": ["gossip"]},
        {"drugs": [PEMBRO], "schedule": {"tz": "Mars/Olympus"}},
        {"search": {"phase": "PHASE_9"}},
    ):
        r = client.post("/api/subscriptions", headers=auth(alice), json=body)
        assert r.status_code == 400 and is_sentence(r.json()), (body, r.text)
    r = client.post("/api/subscriptions", headers=auth(alice), json={"drugs": [1], "colour": 2})
    assert r.status_code == 422 and is_sentence(r.json())


def _follow_pembrolizumab(client: TestClient, engine: Engine, key: str, **channels: Any) -> Any:
    """Subscribe, then match the stored real events about the drug the way ingest does."""
    r = client.post(
        "/api/subscriptions",
        headers=auth(key),
        json={"drugs": ["Keytruda"], "channels": channels},
    )
    assert r.status_code == 201, r.text
    pembro = r.json()["follows"][0]["ref"]
    with engine.connect() as c:
        ids = list(
            c.execute(
                select(event_concern.c.event_id).where(
                    event_concern.c.kind == "drug", event_concern.c.ref == pembro
                )
            ).scalars()
        )
    match_engine(engine, ids)
    return r.json()


def test_inbox_lists_counts_and_marks_read(client: TestClient, engine: Engine) -> None:
    _, alice = new_user(engine)
    _, bob = new_user(engine)
    _follow_pembrolizumab(client, engine, alice, inbox=True)
    box = client.get("/api/inbox", headers=auth(alice)).json()
    n = len(box["items"])
    assert n >= 5 and box["unread"] == n
    assert all(PEMBRO in str(i["event"]["summary"]) or i["event"]["concerns"] for i in box["items"])
    ids = [i["id"] for i in box["items"]]
    assert ids == sorted(ids, reverse=True) and all(i["read_at"] is None for i in box["items"])
    assert client.get("/api/inbox", headers=auth(bob)).json() == {
        "unread": 0,
        "items": [],
        "next_before": None,
    }
    page1 = client.get("/api/inbox", headers=auth(alice), params={"limit": 2}).json()
    page2 = client.get(
        "/api/inbox", headers=auth(alice), params={"limit": 2, "before": page1["next_before"]}
    ).json()
    assert [i["id"] for i in page1["items"] + page2["items"]] == ids[:4]

    r = client.post("/api/inbox/read", headers=auth(bob), json={"ids": ids[:1]})
    assert r.status_code == 404 and is_sentence(r.json())  # not bob's
    r = client.post("/api/inbox/read", headers=auth(alice), json={"ids": ids[:2]})
    assert r.json() == {"marked": 2, "unread": n - 2}
    unread = client.get("/api/inbox", headers=auth(alice), params={"unread": True}).json()
    assert [i["id"] for i in unread["items"]] == ids[2:]
    assert client.post("/api/inbox/read", headers=auth(alice), json={"all": True}).json() == {
        "marked": n - 2,
        "unread": 0,
    }
    r = client.post("/api/inbox/read", headers=auth(alice), json={})
    assert r.status_code == 400 and is_sentence(r.json())


def test_atom_feed_of_a_subscription(client: TestClient, engine: Engine) -> None:
    _, alice = new_user(engine)
    sub = _follow_pembrolizumab(client, engine, alice, inbox=False, feed=True)
    path = urlsplit(sub["feed_url"]).path
    r = client.get(path)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(r.content)
    assert not feed.bozo and feed.feed.title == f"drugradar: {sub['name']}"
    assert len(feed.entries) >= 5 and len({e.id for e in feed.entries}) == len(feed.entries)
    assert client.get(path[:-10] + "x.atom").status_code == 404


def test_unsubscribe_token(client: TestClient, engine: Engine) -> None:
    _, alice = new_user(engine)
    sid = _follow_pembrolizumab(client, engine, alice, emails=["alice@example.org"])["id"]
    token = parse_qs(urlsplit(unsubscribe_url(sid)).query)["token"][0]
    body, _, mac = token.partition(".")
    tampered = body + "." + ("A" if mac[0] != "A" else "B") + mac[1:]
    other = base64.urlsafe_b64encode(b"1:999").decode().rstrip("=") + "." + mac
    for bad in (tampered, other, "garbage", token[:-4]):
        r = client.get("/unsubscribe", params={"token": bad})
        assert r.status_code == 400 and is_sentence(r.json()), bad
    page = client.get("/unsubscribe", params={"token": tampered}, headers={"Accept": "text/html"})
    assert page.status_code == 400 and "<h1>" in page.text
    r = client.get("/unsubscribe", params={"token": token})
    assert r.json() == {"unsubscribed": True, "subscription_id": sid}
    with engine.connect() as c:
        paused = c.execute(select(subscription.c.paused).where(subscription.c.id == sid)).scalar()
    assert paused is True
    one_click = client.post("/unsubscribe", params={"token": token})
    assert one_click.status_code == 200
    page = client.get("/unsubscribe", params={"token": token}, headers={"Accept": "text/html"})
    assert page.status_code == 200 and "Unsubscribed" in page.text


def _session_cookie(data: dict[str, Any]) -> str:
    """A session cookie as Starlette's SessionMiddleware signs it (what log-in sets)."""
    raw = base64.b64encode(json.dumps(data).encode())
    return TimestampSigner(server_secret().hex()).sign(raw).decode()


def test_session_auth_needs_the_csrf_header_for_changes(
    client: TestClient, engine: Engine, api_db: Database
) -> None:
    user_id, _ = new_user(engine)
    app = create_app(api_db.url, migrate_schema=False, rate_limit=0)
    with TestClient(app) as browser:
        browser.cookies.set(SESSION_COOKIE, _session_cookie({"user_id": user_id, "csrf": "tok"}))
        assert browser.get("/api/subscriptions").status_code == 200
        body = {"drugs": [PEMBRO]}
        r = browser.post("/api/subscriptions", json=body)
        assert r.status_code == 403 and is_sentence(r.json())
        r = browser.post("/api/subscriptions", json=body, headers={"X-CSRF-Token": "nope"})
        assert r.status_code == 403
        r = browser.post("/api/subscriptions", json=body, headers={"X-CSRF-Token": "tok"})
        assert r.status_code == 201


# -- limits and failures -------------------------------------------------------------------


def test_rate_limit_per_api_key(engine: Engine, api_db: Database) -> None:
    _, alice = new_user(engine)
    _, bob = new_user(engine)
    app = create_app(api_db.url, migrate_schema=False, rate_limit=3)
    with TestClient(app) as c:
        codes = [c.get("/api/health", headers=auth(alice)).status_code for _ in range(3)]
        assert codes == [200, 200, 200]
        r = c.get("/api/subscriptions", headers=auth(alice))
        assert r.status_code == 429 and is_sentence(r.json())
        assert 1 <= int(r.headers["Retry-After"]) <= 20
        assert c.get("/api/subscriptions", headers={"X-API-Key": bob}).status_code == 200
        assert c.get("/api/health").status_code == 200  # no key: not this limit's business


def test_unexpected_errors_are_json_sentences(api_db: Database) -> None:
    app = create_app(api_db.url, migrate_schema=False, rate_limit=0)

    @app.get("/api/boom")
    def boom() -> None:
        raise RuntimeError("secret internals /etc/passwd")

    with TestClient(app) as c:
        r = c.get("/api/boom")
    assert r.status_code == 500 and is_sentence(r.json())
    assert "passwd" not in r.text


def test_openapi_is_published(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path in (
        "/api/drugs",
        "/api/drugs/{ident}",
        "/api/drugs/export.{fmt}",
        "/api/suggest",
        "/api/subscriptions/{subscription_id}",
        "/api/inbox",
        "/feeds/{secret}.atom",
        "/unsubscribe",
    ):
        assert path in spec["paths"], path
    assert client.get("/docs").status_code == 200


def test_served_app_builds_its_indexes_before_listening(api_db: Database) -> None:
    """``drugradar serve``'s app (``warm``) builds the name indexes at startup and freezes what
    lives as long as the process, so no request pays for either (nor for a full collection
    walking them)."""
    import gc

    app = create_app(api_db.url, migrate_schema=False, rate_limit=0, warm=True)
    frozen = gc.get_freeze_count()
    try:
        with TestClient(app) as c:
            assert app.state.name_index._index is not None
            assert app.state.resolvers.get()._fuzzy is not None
            assert gc.get_freeze_count() > frozen
            r = c.get("/api/drugs", params={"q": "Keytruda"})
            assert r.status_code == 200 and r.json()["results"], r.text
    finally:
        gc.unfreeze()
    cold = create_app(api_db.url, migrate_schema=False, rate_limit=0)
    with TestClient(cold):
        assert cold.state.name_index._index is None  # tests and tools: built on first use
