"""The dashboard moves while you watch: live.json, and what it costs."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from dashboard import stats
from referrals import tree
from referrals.models import Member
from tests.helpers import join
from waitlist import services as waitlist


def live(client, campaign):
    response = client.get(f"/dashboard/{campaign.slug}/live.json")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    return response.json()


def test_live_figures_follow_joins_and_the_waitlist(as_mia, campaign, alice):
    tree.fold_all()
    stats.refresh(campaign=campaign)
    before = live(as_mia, campaign)
    assert before["kpis"]["members"] == "1" and before["kpis"]["waitlist"] == "0"
    join(alice, "newcomer")
    tree.fold_all()  # the fold's counter moves at once, without a stats refresh
    entry = waitlist.request_invite(campaign=campaign, email="w@example.com").entry
    waitlist.confirm(entry=entry)
    waitlist.cache.delete(f"waitlist:waiting:{campaign.pk}")  # (the 5-second cache)
    after = live(as_mia, campaign)
    assert after["kpis"]["members"] == "2" and after["kpis"]["waitlist"] == "1"
    page = as_mia.get(f"/dashboard/{campaign.slug}/").content.decode()
    assert 'data-live-url="/dashboard/' in page and 'data-kpi="waitlist"' in page


def test_a_poll_costs_the_same_queries_whatever_the_campaigns_size(as_mia, campaign, alice):
    stats.refresh(campaign=campaign)
    live(as_mia, campaign)  # the session's daily write, once

    def queries() -> int:
        with CaptureQueriesContext(connection) as seen:
            live(as_mia, campaign)
        return len(seen)

    small = queries()
    Member.objects.filter(pk=alice.pk).update(invites_left=30)
    alice.refresh_from_db()
    for i in range(30):
        join(alice, f"m{i}")
    tree.fold_all()
    stats.refresh(campaign=campaign)
    assert queries() == small
    assert small <= 7


def test_only_the_campaigns_marketers_poll_it(client, campaign, bob):
    client.force_login(bob.user)
    assert client.get(f"/dashboard/{campaign.slug}/live.json").status_code == 403
