"""End to end on real data: a user follows the drug of NCT05935098 while the TIGIT series is
replayed; the day that trial is terminated (2026-03-14) reaches them in the next daily digest,
by a real SMTP server — once."""

from __future__ import annotations

from datetime import UTC, date, timedelta

import pytest
from sqlalchemy import Engine, func, select

from drugradar.alerts import subscriptions as subs
from drugradar.alerts.deliver import run_due
from drugradar.alerts.users import create_user
from drugradar.model.subscription import Channels, Frequency, Schedule
from drugradar.store.schema import delivery, drug, trial_drug
from drugradar.track.replay import replay

from .conftest import SHARED_VOCAB
from .servers import Mailbox, smtp  # noqa: F401

pytestmark = pytest.mark.xdist_group("alerts_e2e")
DATA = SHARED_VOCAB.parent
NCT = "NCT05935098"


def test_termination_reaches_the_follower_once(loaded: Engine, smtp: Mailbox) -> None:  # noqa: F811
    replay(loaded, DATA, sources=["tigit"], until=date(2026, 3, 13))
    with loaded.connect() as c:
        names = (
            c.execute(
                select(drug.c.preferred_name)
                .join(trial_drug, trial_drug.c.drug_id == drug.c.id)
                .where(trial_drug.c.nct_id == NCT, trial_drug.c.role == "investigational")
                .order_by(drug.c.preferred_name)
            )
            .scalars()
            .all()
        )
    assert names, "the trial's investigational drug is linked"
    user = create_user(loaded, "analyst@example.org", "a long enough password")
    sub = subs.add_subscription(
        loaded,
        user.id,
        drugs=[names[0]],
        families=["clinical_trial", "dev_status"],
        schedule=Schedule(Frequency.DAILY, hour=7, tz="UTC"),
        channels=Channels(emails=["analyst@example.org"], inbox=True),
    )
    replay(loaded, DATA, sources=["tigit"])  # the last day: 2026-03-14
    assert sub.created_at is not None
    next_morning = sub.created_at.astimezone(UTC) + timedelta(days=1)
    report = run_due(loaded, next_morning)
    assert len(report.sent) == 1
    (msg,) = smtp.messages
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert text.count(f"{NCT}") >= 1
    terminated = [line for line in text.splitlines() if NCT in line and "TERMINATED" in line]
    assert len(terminated) == 1, text
    # once: a second run, a second replay and the day after send nothing more
    replay(loaded, DATA, sources=["tigit"])
    assert run_due(loaded, next_morning + timedelta(hours=1)).sent == []
    assert run_due(loaded, next_morning + timedelta(days=1)).sent == []
    assert len(smtp.messages) == 1
    with loaded.connect() as c:
        inbox = c.execute(
            select(func.count()).select_from(delivery).where(delivery.c.channel == "inbox")
        ).scalar()
    assert inbox and inbox >= 1
