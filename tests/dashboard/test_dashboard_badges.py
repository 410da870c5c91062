"""/dashboard/<slug>/settings/ and /dashboard/new/: a campaign's badge names, tiers and switches."""

import pytest
from django.db.models import F

from badges import services as badges
from badges.models import Award, BadgeSetting
from badges.rules import CONNECTOR, EARLY_ADOPTER, TREE_BUILDER
from referrals import services, tree
from referrals.models import Campaign, Member
from tests.helpers import DEFAULT_NAMES, make_user, settings_post


@pytest.fixture
def other_campaign(db):
    return Campaign.objects.create(slug="spring-launch", name="Spring launch")


def connector_tier(member: Member) -> int | None:
    member = Member.objects.select_related("campaign").get(pk=member.pk)
    badges.refresh_awards(member=member)
    return (
        Award.objects.filter(member=member, slug=CONNECTOR).values_list("tier", flat=True).first()
    )


def two_activated_invitees(alice: Member) -> None:
    Member.objects.filter(pk=alice.pk).update(invites_left=F("invites_left") + 2)
    for name in ("bob", "carol"):
        invite = services.create_invite(member=alice)
        invitee = services.redeem_invite(code=invite.code, user=make_user(name))
        services.activate_member(member=invitee)
    tree.fold_all()


def test_the_settings_page_shows_every_badge_at_its_defaults(client, mara, campaign):
    client.force_login(mara)
    page = client.get(f"/dashboard/{campaign.slug}/settings/").content.decode()
    for slug, name in DEFAULT_NAMES.items():
        assert f'name="badge-{slug}-name"' in page
        assert f'value="{name}"' in page
    assert 'value="1, 5, 25"' in page
    assert "“First N” members by join number" in page
    assert 'name="badge-founding-member-thresholds"' not in page  # untiered


def test_saving_a_campaign_with_its_badges_at_defaults_writes_no_badge_rows(client, mara, campaign):
    client.force_login(mara)
    response = client.post(f"/dashboard/{campaign.slug}/settings/", settings_post(campaign))
    assert response.status_code == 302
    assert not BadgeSetting.objects.exists()


def test_a_lowered_connector_threshold_is_saved_and_awards_the_higher_tier(
    client, mara, campaign, alice
):
    two_activated_invitees(alice)
    assert connector_tier(alice) == 1  # defaults 1, 5, 25: two is not five

    client.force_login(mara)
    response = client.post(
        f"/dashboard/{campaign.slug}/settings/",
        settings_post(campaign, connector_thresholds=" 10,2 , 1", connector_name="Matchmaker"),
    )

    assert response.status_code == 302
    setting = BadgeSetting.objects.get(campaign=campaign, slug=CONNECTOR)
    assert (setting.thresholds, setting.name, setting.enabled) == ("1,2,10", "Matchmaker", True)
    assert BadgeSetting.objects.count() == 1  # the others stayed at their defaults
    assert connector_tier(alice) == 2


def test_switching_a_badge_off_stops_its_award(client, mara, campaign, alice):
    client.force_login(mara)
    client.post(
        f"/dashboard/{campaign.slug}/settings/", settings_post(campaign, connector_enabled=False)
    )
    assert BadgeSetting.objects.get(campaign=campaign, slug=CONNECTOR).enabled is False
    two_activated_invitees(alice)
    assert connector_tier(alice) is None


def test_editing_an_existing_badge_row_updates_it_and_shows_its_values(client, mara, campaign):
    BadgeSetting.objects.create(
        campaign=campaign, slug=EARLY_ADOPTER, thresholds="10,100", color="gold"
    )
    client.force_login(mara)
    page = client.get(f"/dashboard/{campaign.slug}/settings/").content.decode()
    assert 'value="10,100"' in page
    client.post(
        f"/dashboard/{campaign.slug}/settings/",
        settings_post(campaign, early_adopter_thresholds="50", early_adopter_name="Pioneer"),
    )
    setting = BadgeSetting.objects.get(campaign=campaign, slug=EARLY_ADOPTER)
    assert (setting.thresholds, setting.name, setting.color) == ("50", "Pioneer", "gold")


@pytest.mark.parametrize(
    ("tiers", "message"),
    [
        ("1, five, 25", "“five” is not a whole number above zero."),
        ("0, 5", "“0” is not a whole number above zero."),
        ("-3", "“-3” is not a whole number above zero."),
        ("2.5", "“2.5” is not a whole number above zero."),
        ("²", "“²” is not a whole number above zero."),
        (" , ", "Enter at least one tier"),
        ("", "Enter at least one tier (defaults: 1, 5, 25)."),
        ("1,2,3,4,5,6,7,8,9,10,11", "at most 10 tiers"),
        ("99999999999", "A tier can be at most 10,000,000."),
    ],
)
def test_bad_thresholds_are_refused_with_a_message_and_nothing_is_saved(
    client, mara, campaign, tiers, message
):
    client.force_login(mara)
    response = client.post(
        f"/dashboard/{campaign.slug}/settings/",
        settings_post(
            campaign,
            connector_thresholds=tiers,
            tree_builder_name="Gardener",
            founding_member_enabled=False,
        )
        | {"name": "Renamed"},
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not BadgeSetting.objects.exists()
    campaign.refresh_from_db()
    assert campaign.name != "Renamed"


def test_a_new_campaign_is_created_with_its_badge_settings(client, mara):
    autumn = Campaign(slug="autumn", name="Autumn beta")
    client.force_login(mara)
    response = client.post(
        "/dashboard/new/", settings_post(autumn, tree_builder_thresholds="10, 50")
    )
    assert response.status_code == 302
    autumn = Campaign.objects.get(slug="autumn")
    [setting] = autumn.badge_settings.all()
    assert (setting.slug, setting.thresholds) == (TREE_BUILDER, "10,50")


def test_a_post_without_the_badge_section_leaves_the_badges_alone(client, mara, campaign):
    BadgeSetting.objects.create(campaign=campaign, slug=CONNECTOR, thresholds="2")
    client.force_login(mara)
    data = {k: v for k, v in settings_post(campaign).items() if not k.startswith("badge-")}
    assert client.post(f"/dashboard/{campaign.slug}/settings/", data).status_code == 302
    setting = BadgeSetting.objects.get()
    assert (setting.thresholds, setting.enabled) == ("2", True)


def test_a_marketer_of_one_campaign_cannot_edit_anothers_badges(
    client, mara, campaign, other_campaign
):
    BadgeSetting.objects.create(campaign=other_campaign, slug=CONNECTOR, thresholds="3")
    client.force_login(mara)
    url = f"/dashboard/{other_campaign.slug}/settings/"
    assert client.get(url).status_code == 404
    response = client.post(url, settings_post(other_campaign, connector_thresholds="1"))
    assert response.status_code == 404
    assert BadgeSetting.objects.get().thresholds == "3"
    assert not BadgeSetting.objects.filter(campaign=campaign).exists()
