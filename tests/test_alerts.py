"""Set Alert on both backends: subscriptions resolve what they follow, events match through the
index at ingest (children of a followed disease, subsidiaries of a followed company), one delivery
per user, event and channel, digests by email and signed webhook, feed, preview, owners only.

Events here are synthetic (made by the tests, about real drugs and diseases of the fixture
vocabulary); the end-to-end test on the real TIGIT replay is ``test_alerts_e2e.py``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import feedparser
import pytest
from sqlalchemy import Engine, func, select

from drugradar.alerts import subscriptions as subs
from drugradar.alerts.channels.feed import atom_feed
from drugradar.alerts.channels.webhook import verify_signature
from drugradar.alerts.deliver import failed_digests, run_due
from drugradar.alerts.match import backfill as match_backfill
from drugradar.alerts.preview import preview
from drugradar.alerts.settle import settle
from drugradar.alerts.users import create_user
from drugradar.model.event import Change, Materiality
from drugradar.model.subscription import Channels, Frequency, Schedule
from drugradar.resolve.orgs import org_key
from drugradar.store.schema import delivery, dev_status, digest, event, subscription
from drugradar.track.query import as_dict, events_by_ids
from drugradar.track.store import Sighting, save

from .servers import Hook, Mailbox, smtp, webhook  # noqa: F401
from .test_events_store import new_release

NIVOLUMAB = "Nivolumab"
MELANOMA = "D008545"
CUTANEOUS = "D000096142"  # Melanoma, Cutaneous Malignant: a child term of Melanoma


def drug_id(engine: Engine, name: str) -> str:
    from drugradar.resolve import Resolver

    best = Resolver(engine).resolve(name).best
    assert best is not None
    return best.drug_id


def emit(engine: Engine, *changes: Change, day: date = date(2026, 3, 14)) -> int:
    """Store synthetic events the way a load does, then settle them (concerns, matching)."""
    rid = new_release(engine, "test_source", day)
    with engine.begin() as c:
        save(c, [(ch, Sighting("test_source", ch.entity_id, rid, day)) for ch in changes])
    return settle(engine).deliveries


def phase3(did: str, disease: str | None = None, org: str | None = None) -> Change:
    concerns = [("drug", did)]
    concerns += [("disease", disease)] if disease else []
    concerns += [("organization", org)] if org else []
    return Change(
        "dev_status",
        "PHASE_3",
        "dev_status",
        f"{did}|{disease}|US|{org}",
        "synthetic: reached Phase 3 <script>alert(1)</script>",
        field="phase",
        old="PHASE_2",
        new="PHASE_3",
        materiality=Materiality.HIGH,
        concerns=concerns,
    )


def trial_note(did: str) -> Change:
    return Change(
        "clinical_trial",
        "sites_changed",
        "trial",
        "NCT99999999",
        "synthetic: sites added",
        field="sites",
        old={"removed": []},
        new={"added": ["somewhere"]},
        materiality=Materiality.LOW,
        concerns=[("drug", did)],
    )


@pytest.fixture
def alice(loaded: Engine) -> int:
    return create_user(loaded, "alice@example.org", "correct horse battery").id


@pytest.fixture
def bob(loaded: Engine) -> int:
    return create_user(loaded, "bob@example.org", "correct horse staple").id


def test_follow_by_brand_keeps_the_alias(loaded: Engine, alice: int) -> None:
    sub = subs.add_subscription(loaded, alice, drugs=["Opdivo"])
    (f,) = sub.follows
    assert f.ref == drug_id(loaded, NIVOLUMAB) and f.alias and f.alias.lower() == "opdivo"


def test_unknown_things_are_refused_in_one_sentence(loaded: Engine, alice: int) -> None:
    for kwargs in (
        {"drugs": ["no such drug xyzzy"]},
        {"targets": ["NOTAGENE1"]},
        {"diseases": ["no such disease"]},
        {"drugs": [NIVOLUMAB], "families": ["gossip"]},
        {"drugs": [NIVOLUMAB], "schedule": Schedule(tz="Mars/Olympus")},
        {"drugs": [NIVOLUMAB], "channels": Channels(webhook_url="http://127.0.0.1/x", inbox=False)},
    ):
        with pytest.raises(ValueError) as info:
            subs.add_subscription(loaded, alice, **kwargs)  # type: ignore[arg-type]
        assert "\n" not in str(info.value) and str(info.value).endswith(".")


def test_one_delivery_per_user_event_and_channel(loaded: Engine, alice: int, bob: int) -> None:
    did = drug_id(loaded, NIVOLUMAB)
    subs.add_subscription(loaded, alice, drugs=[NIVOLUMAB])
    subs.add_subscription(loaded, alice, targets=["PDCD1"])  # the same event, through its target
    subs.add_subscription(loaded, bob, drugs=["Opdivo"])
    emit(loaded, phase3(did))
    with loaded.connect() as c:
        rows = c.execute(select(delivery.c.user_id, delivery.c.channel)).all()
    assert sorted(rows) == sorted([(alice, "inbox"), (bob, "inbox")])


def test_disease_follow_includes_child_terms(loaded: Engine, alice: int) -> None:
    did = drug_id(loaded, NIVOLUMAB)
    sub = subs.add_subscription(loaded, alice, diseases=["Melanoma"])
    assert sub.follows[0].ref == MELANOMA
    assert emit(loaded, phase3(did, CUTANEOUS)) == 1


def test_company_follow_includes_subsidiaries(loaded: Engine, alice: int) -> None:
    """A status row of a subsidiary (MSD) raises an event that reaches the parent's followers."""
    from drugradar.resolve.orgs import parent_of
    from drugradar.track import devstatus as dev_events

    subsidiary = "Merck Sharp & Dohme LLC"
    parent_key, parent_name = parent_of(subsidiary)
    assert parent_key != org_key(subsidiary), "the parent map knows MSD's parent"
    did = drug_id(loaded, "Pembrolizumab")
    row = {  # a synthetic status row
        "drug_id": did, "indication_key": MELANOMA, "country": "United States",
        "org_key": org_key(subsidiary), "indication_name": "Melanoma", "disease_id": MELANOMA,
        "org_name": subsidiary, "org_parent_key": parent_key, "org_parent_name": parent_name,
        "phase": "PHASE_3", "phase_since": None, "activity": "active", "activity_since": None,
        "activity_rule": "synthetic", "sources": '["NCT99999999"]', "source": "ctgov",
        "as_of": date(2026, 3, 14),
    }  # fmt: skip
    with loaded.begin() as c:
        c.execute(dev_status.insert().values(**row))
    sub = subs.add_subscription(loaded, alice, organizations=[parent_name])
    assert sub.follows[0].ref == parent_key
    rid = new_release(loaded, "ctgov", date(2026, 3, 14))
    news = dev_events.News(
        {"NCT99999999": ("ctgov", rid, date(2026, 3, 14))}, rid, date(2026, 3, 14)
    )
    drafts = dev_events.diff(did, "Pembrolizumab", [], [row], news, date(2026, 3, 14))
    with loaded.begin() as c:
        save(c, drafts)
    assert settle(loaded).deliveries == 1


def test_paused_and_materiality_filters(loaded: Engine, alice: int) -> None:
    did = drug_id(loaded, NIVOLUMAB)
    high_only = subs.add_subscription(
        loaded, alice, drugs=[NIVOLUMAB], min_materiality=Materiality.HIGH
    )
    assert emit(loaded, trial_note(did)) == 0  # low: below the floor
    assert emit(loaded, phase3(did)) == 1
    subs.pause(loaded, alice, high_only.id)
    assert emit(loaded, phase3(did, MELANOMA)) == 0
    subs.resume(loaded, alice, high_only.id)
    only_phase = subs.add_subscription(
        loaded,
        alice,
        targets=["PDCD1"],
        types=["dev_status.PHASE_3"],
        channels=Channels(inbox=False, feed=True),
    )
    assert emit(loaded, trial_note(did)) == 0
    assert emit(loaded, phase3(did, CUTANEOUS)) == 2  # inbox of the first, feed of the second
    assert only_phase.feed_secret


def test_sql_matching_agrees_with_the_filter_predicate(loaded: Engine) -> None:
    """Every combination of families, types and minimum materiality, one user each (so no
    per-user deduplication hides a match): the outbox holds exactly what ``wants`` accepts."""
    from itertools import product

    from drugradar.alerts.filters import wants

    did = drug_id(loaded, NIVOLUMAB)
    fam_choices: list[list[str]] = [[], ["dev_status"], ["clinical_trial"], ["approval"]]
    type_choices: list[list[str]] = [[], ["dev_status.PHASE_3"], ["clinical_trial.sites_changed"]]
    made = {}
    for n, (fams, types, floor) in enumerate(product(fam_choices, type_choices, Materiality)):
        uid = create_user(loaded, f"combo{n}@example.org", "correct horse battery").id
        sub = subs.add_subscription(
            loaded, uid, drugs=[NIVOLUMAB], families=fams, types=types, min_materiality=floor
        )
        made[sub.id] = sub
    emit(loaded, phase3(did), trial_note(did))
    with loaded.connect() as c:
        got = set(c.execute(select(delivery.c.subscription_id, delivery.c.event_id)).all())
        evs = c.execute(
            select(event.c.id, event.c.family, event.c.type, event.c.materiality).where(
                event.c.baseline.is_(False)
            )
        ).all()
        rows = {r.id: r for r in c.execute(select(subscription)).all()}
    expected = {(sid, ev.id) for sid in made for ev in evs if wants(rows[sid], ev)}
    assert len(evs) == 2 and expected  # the grid has both kinds of outcome
    assert got == expected
    assert len(expected) < len(made) * len(evs)


def test_backfill_fills_one_new_subscription_with_recent_events(
    loaded: Engine, alice: int, bob: int
) -> None:
    did = drug_id(loaded, NIVOLUMAB)
    subs.add_subscription(loaded, bob, drugs=[NIVOLUMAB])
    emit(loaded, phase3(did), day=date(2026, 1, 2))  # before the window
    emit(loaded, trial_note(did), day=date(2026, 3, 14))
    with loaded.connect() as c:
        bob_before = c.execute(select(func.count()).select_from(delivery)).scalar()
    late = subs.add_subscription(loaded, alice, drugs=[NIVOLUMAB])  # after the events
    found = match_backfill(loaded, late.id, days=30)
    with loaded.connect() as c:
        rows = c.execute(select(delivery.c.user_id, delivery.c.subscription_id)).all()
    assert found.deliveries == 1
    assert rows.count((alice, late.id)) == 1  # the March event only: January is out of window
    assert sum(1 for r in rows if r.user_id == bob) == bob_before  # nobody else's outbox moved


def test_owner_only(loaded: Engine, alice: int, bob: int) -> None:
    sub = subs.add_subscription(loaded, alice, drugs=[NIVOLUMAB])
    for action in (subs.pause, subs.resume, subs.delete, subs.get_subscription):
        with pytest.raises(PermissionError):
            action(loaded, bob, sub.id)
    with pytest.raises(PermissionError):
        preview(loaded, bob, sub.id)
    assert subs.list_subscriptions(loaded, bob) == []
    assert [s.id for s in subs.list_subscriptions(loaded, alice)] == [sub.id]


def test_daily_email_digest_once(loaded: Engine, alice: int, smtp: Mailbox) -> None:  # noqa: F811
    did = drug_id(loaded, NIVOLUMAB)
    sub = subs.add_subscription(
        loaded,
        alice,
        drugs=[NIVOLUMAB],
        schedule=Schedule(Frequency.DAILY, hour=8, tz="Europe/Paris"),
        channels=Channels(emails=["alice@example.org", "team@example.org"], inbox=False),
    )
    emit(loaded, phase3(did), trial_note(did))
    created = sub.created_at or datetime.now(UTC)
    assert run_due(loaded, created + timedelta(minutes=1)).sent == []  # not due yet
    tomorrow = created.astimezone(UTC) + timedelta(days=1, hours=1)
    report = run_due(loaded, tomorrow)
    assert len(report.sent) == 1 and not report.failed
    assert run_due(loaded, tomorrow + timedelta(minutes=5)).sent == []  # once
    (msg,) = smtp.messages
    assert "2 changes" in str(msg["Subject"])
    assert msg["X-Envelope-To"] == "alice@example.org, team@example.org"
    assert msg["List-Unsubscribe"]
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert text.index("reached Phase 3") < text.index("sites added")  # highest materiality first
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_webhook_digest_is_signed_and_retried(loaded: Engine, alice: int, webhook: Hook) -> None:  # noqa: F811
    did = drug_id(loaded, NIVOLUMAB)
    sub = subs.add_subscription(
        loaded,
        alice,
        drugs=[NIVOLUMAB],
        schedule=Schedule(Frequency.IMMEDIATE),
        channels=Channels(webhook_url=webhook.url, inbox=False),
    )
    emit(loaded, phase3(did))
    webhook.status = 503
    first = run_due(loaded)
    assert len(first.failed) == 1
    failed = failed_digests(loaded, alice)
    assert failed and "503" in str(failed[0]["error"])
    webhook.status = 200
    later = datetime.now(UTC) + timedelta(hours=1)
    again = run_due(loaded, later)
    assert again.sent == first.failed
    headers, body = webhook.received[-1]
    assert sub.webhook_secret and verify_signature(
        body, headers["x-drugradar-signature"], sub.webhook_secret
    )
    keys = {h["x-drugradar-idempotency-key"] for h, _ in webhook.received}
    assert len(keys) == 1  # the retry is the same delivery
    assert webhook.bodies()[-1]["items"][0]["type"] == "PHASE_3"
    with loaded.connect() as c:
        assert c.execute(select(func.count()).select_from(digest)).scalar() == 1


def test_preview_and_feed(loaded: Engine, alice: int) -> None:
    did = drug_id(loaded, NIVOLUMAB)
    emit(loaded, phase3(did), day=date(2026, 3, 1))
    emit(loaded, trial_note(did), day=date(2025, 1, 1))  # long before the window
    sub = subs.add_subscription(loaded, alice, drugs=[NIVOLUMAB], channels=Channels(feed=True))
    found = preview(loaded, alice, sub.id, days=30)
    assert [e.type for e in found] == ["PHASE_3"]
    xml = atom_feed(sub.name, "http://x/feed.atom", [as_dict(e) for e in found])
    feed = feedparser.parse(xml)
    assert not feed.bozo and feed.entries[0].title.startswith("synthetic")
    assert b"<script" not in xml and b"&lt;script&gt;" in xml  # source text escaped


def test_saved_search_raises_entered_events(loaded: Engine, alice: int) -> None:
    did = drug_id(loaded, NIVOLUMAB)
    sub = subs.add_subscription(loaded, alice, search={"target": "PDCD1", "phase": "PHASE_3"})
    with loaded.begin() as c:  # a synthetic status row: nivolumab reaches Phase 3
        c.execute(
            dev_status.insert().values(
                drug_id=did, indication_key=MELANOMA, country="United States", org_key="bms",
                indication_name="Melanoma", disease_id=MELANOMA, org_name="BMS",
                org_parent_key="bms", org_parent_name="BMS", phase="PHASE_3", phase_since=None,
                activity="active", activity_since=None, activity_rule="synthetic", sources="[]",
                source="test", as_of=date(2026, 3, 14),
            )
        )  # fmt: skip
    assert emit(loaded, phase3(did)) >= 1
    found = [e for e in events_by_ids(loaded, list(range(1, 100))) if e.family == "query_result"]
    assert [(e.type, e.concerns[0]) for e in found] == [("entered", ("drug", did))]
    assert sub.follows[0].kind.value == "search"


def test_a_load_stopped_before_settling_delivers_when_run_again(
    loaded: Engine, alice: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A trial load resolves what the events of its new studies concern as it builds them; if it
    stops after storing its release and before settling (a kill, an error), the run that
    resumes the release still matches those events to their followers.

    The new study is a real one of the TIGIT sample, made synthetic in one field: its first
    posted date is moved to today, so that its arrival is news (an old study first seen is not).
    """
    import lzma

    import orjson

    from drugradar.trials import load as trial_load

    from .test_ctgov_v2 import SAMPLE

    rows = [orjson.loads(x) for x in lzma.decompress(SAMPLE.read_bytes()).splitlines()]
    sponsor = "Compugen Ltd"
    held = min(  # one of the sponsor's two studies comes later; the other makes it known
        r["nct_id"]
        for r in rows
        if r["study"]["protocolSection"]["sponsorCollaboratorsModule"]["leadSponsor"]["name"]
        == sponsor
    )
    first = tmp_path / "sample_without_one_study.jsonl"
    first.write_bytes(b"\n".join(orjson.dumps(r) for r in rows if r["nct_id"] != held))
    study = rows[max(i for i, r in enumerate(rows) if r["nct_id"] == held)]["study"]
    today = datetime.now(UTC).date().isoformat()
    study["protocolSection"]["statusModule"]["studyFirstPostDateStruct"]["date"] = today
    posted = tmp_path / "synthetic_posted_today.json"
    posted.write_bytes(orjson.dumps(study))
    trial_load.load_ctgov(loaded, [first])
    subs.add_subscription(loaded, alice, organizations=[sponsor])

    def stop(*_: object) -> None:
        raise RuntimeError("stopped before settling")

    monkeypatch.setattr(trial_load, "settle", stop)
    with pytest.raises(RuntimeError):
        trial_load.load_ctgov(loaded, [posted])
    monkeypatch.undo()
    with loaded.connect() as c:
        assert c.execute(select(func.count()).select_from(delivery)).scalar() == 0
        done = c.execute(select(event.c.concerns_done).where(event.c.entity_id == held))
        assert done.scalars().all() == [True]  # resolved while storing, not yet matched
    again = trial_load.load_ctgov(loaded, [posted])
    assert again.release.status == "resumed"
    with loaded.connect() as c:
        delivered = c.execute(
            select(event.c.entity_kind, event.c.entity_id, event.c.type)
            .join(delivery, delivery.c.event_id == event.c.id)
            .where(delivery.c.user_id == alice)
        ).all()
    assert {(i, t) for k, i, t in delivered if k == "trial"} == {(held, "posted")}
    assert {k for k, _, _ in delivered} == {"trial", "dev_status"}  # and its new status rows
