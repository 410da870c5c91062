"""One face per award: the image, the proof page, oEmbed and baked badges all say the same."""

import xml.etree.ElementTree as ET

import pytest

from badges.faces import face
from badges.models import Award, BadgeSetting, definition
from badges.rules import CONNECTOR, SUMMARY
from badges.tasks import award_new_members
from referrals import services, tree
from referrals.models import Member

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def alice_with_active_invitee(alice, bob):
    """alice (#1, seed, one active invitee) and bob (#2), counted and awarded.

    Unlike the shared `awarded` fixture, bob is activated first, so alice earns Connector.
    """
    services.activate_member(member=bob)
    tree.fold_all()
    award_new_members()
    alice.refresh_from_db()
    return alice


def image_face(client, username: str, slug: str) -> tuple[list[str], str]:
    root = ET.fromstring(client.get(f"/badges/{username}/{slug}.svg").content)
    texts = [t.text for t in root.iter(f"{SVG}text") if t.get("aria-hidden") != "true"]
    return texts, root.find(f"{SVG}title").text


def test_the_image_shows_the_face_the_pages_describe_for_every_award(
    client, alice_with_active_invitee
):
    BadgeSetting.objects.create(
        campaign=alice_with_active_invitee.campaign, slug=CONNECTOR, name="Recruiter"
    )
    awards = Award.objects.filter(member=alice_with_active_invitee).select_related(
        "member__user", "member__campaign"
    )
    assert {a.slug for a in awards} >= {SUMMARY, CONNECTOR}
    for award in awards:
        badge = definition(award.member.campaign, award.slug)
        shown = face(
            award_slug=award.slug,
            tier=award.tier,
            member=award.member,
            campaign=award.member.campaign,
            badge=badge,
        )
        assert image_face(client, "alice", award.slug) == ([shown.label, shown.value], shown.title)


def test_a_face_names_the_member_and_says_what_the_badge_shows(alice_with_active_invitee):
    member = Member.objects.select_related("user", "campaign").get(pk=alice_with_active_invitee.pk)
    shown = face(
        award_slug=CONNECTOR,
        tier=1,
        member=member,
        campaign=member.campaign,
        badge=definition(member.campaign, CONNECTOR),
    )
    assert (shown.label, shown.value) == ("Connector", "1 active invitee")
    assert shown.title == "Alice: Connector · 1 active invitee"
    assert shown.alt == "Connector: 1 active invitee"
