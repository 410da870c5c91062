from io import StringIO

from django.core.management import call_command

from referrals.models import Invite, Member


def seed():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_demo_data_loads_once_however_often_it_runs(db):
    first = seed()
    counts = (Member.objects.count(), Invite.objects.count())
    second = seed()
    assert (Member.objects.count(), Invite.objects.count()) == counts
    assert first == second
    assert "ada / passalong-demo" in first
    assert "marketer / passalong-demo" in first


def test_demo_tree_is_three_generations_deep_with_activated_invitees(db):
    seed()
    assert max(Member.objects.values_list("depth", flat=True)) == 3
    ada = Member.objects.get(user__username="ada")
    assert ada.activated_invitee_count >= 3
    assert ada.downline_size == Member.objects.downline_of(ada).count() > 3
    assert sorted(Member.objects.values_list("join_number", flat=True)) == list(
        range(1, Member.objects.count() + 1)
    )


def test_demo_logins_work_and_the_marketer_sees_the_tree_in_the_admin(client, db):
    seed()
    assert client.login(username="ada", password="passalong-demo")
    page = client.get("/invites/")
    assert page.status_code == 200
    assert b'data-testid="invites-left"' in page.content
    client.logout()
    assert client.login(username="marketer", password="passalong-demo")
    admin = client.get("/admin/referrals/member/")
    assert admin.status_code == 200
    assert b"Bea Brown" in admin.content
