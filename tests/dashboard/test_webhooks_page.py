"""/dashboard/<slug>/webhooks/: marketers add, pause, ping and delete endpoints, read deliveries."""

import re

import pytest
from django.utils import timezone

from dashboard.views.webhooks import VERIFY_SNIPPET
from referrals.models import Campaign
from tests.helpers import marketer_of
from webhooks import services as webhooks
from webhooks.models import Delivery, Endpoint, Event, EventType

PAGE = "/dashboard/default/webhooks/"


@pytest.fixture
def mara_client(client, mara):
    client.force_login(mara)
    return client


@pytest.fixture
def other_endpoint(db):
    other = Campaign.objects.create(slug="other", name="Other launch")
    return Endpoint.objects.create(
        campaign=other, url="https://other.example/hooks", events=["ping"]
    )


@pytest.fixture
def allow_private(settings):
    # The receiver listens on 127.0.0.1, which production refuses.
    settings.WEBHOOKS_ALLOW_PRIVATE = True


def add_deliveries(endpoint, count, *, status=Delivery.Status.DELIVERED):
    now = timezone.now()
    events = Event.objects.bulk_create(
        [
            Event(
                key=f"member.joined:{endpoint.pk}:{n}",
                campaign_id=endpoint.campaign_id,
                type=EventType.MEMBER_JOINED,
                created_at=now,
            )
            for n in range(count)
        ]
    )
    return Delivery.objects.bulk_create(
        [Delivery(event=e, endpoint=endpoint, status=status, attempts=1) for e in events]
    )


def shown_event_ids(page: str) -> list[str]:
    return re.findall(r'<code class="event-id">([0-9a-f-]{36})</code>', page)


def test_the_page_lists_endpoints_with_their_latest_twenty_deliveries(mara_client, endpoint):
    deliveries = add_deliveries(endpoint, 23)
    Delivery.objects.filter(pk=deliveries[-1].pk).update(response_code=503, status="failed")
    response = mara_client.get(PAGE)
    assert response.status_code == 200
    page = response.content.decode()
    assert endpoint.url in page
    assert '<span class="status activated">active</span>' in page
    newest_first = [str(d.event.event_id) for d in reversed(deliveries)]
    assert shown_event_ids(page) == newest_first[:20]
    assert "503" in page
    assert 'aria-current="page">Webhooks' in page


def test_the_page_costs_the_same_few_queries_for_many_endpoints_and_deliveries(
    mara_client, campaign, endpoint, django_assert_max_num_queries
):
    add_deliveries(endpoint, 25)
    for n in range(4):
        extra = Endpoint.objects.create(
            campaign=campaign, url=f"https://hooks{n}.example/", events=["member.joined"]
        )
        add_deliveries(extra, 5 + n * 10)
    mara_client.get(PAGE)  # warm the session
    # Session, user, member, 2 access checks, campaign; then endpoints and deliveries.
    with django_assert_max_num_queries(8):
        page = mara_client.get(PAGE).content.decode()
    assert len(shown_event_ids(page)) == 20 + 5 + 15 + 20 + 20


def test_a_marketer_adds_an_endpoint_and_sees_its_secret_once(mara_client, mara, allow_private):
    response = mara_client.post(
        PAGE,
        {"url": "http://127.0.0.1:9/hooks", "events": ["member.joined", "badge.awarded"]},
    )
    assert response.status_code == 302
    assert response["Location"] == PAGE
    endpoint = Endpoint.objects.get()
    assert endpoint.campaign.slug == "default"
    assert endpoint.events == ["badge.awarded", "member.joined"]
    assert endpoint.created_by == mara
    assert endpoint.is_active
    first = mara_client.get(PAGE).content.decode()
    assert f'data-copy="{endpoint.secret}"' in first
    assert "only time it is shown" in first
    assert "hmac.compare_digest" in first
    again = mara_client.get(PAGE).content.decode()
    assert endpoint.secret not in again
    assert endpoint.url in again


def test_adding_the_same_url_twice_says_so_and_keeps_one_endpoint(mara_client, allow_private):
    form = {"url": "http://127.0.0.1:9/hooks", "events": ["member.joined"]}
    assert mara_client.post(PAGE, form).status_code == 302
    again = mara_client.post(PAGE, form)
    assert again.status_code == 400
    assert "already sends its events to that URL" in again.content.decode()
    assert Endpoint.objects.count() == 1


def test_a_private_address_is_refused_with_a_clear_message(mara_client, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    response = mara_client.post(PAGE, {"url": "http://127.0.0.1:8000/", "events": ["ping"]})
    assert response.status_code == 400
    page = response.content.decode()
    assert "private or local address" in page
    assert "Select a valid choice" in page  # ping is not subscribable
    assert not Endpoint.objects.exists()


def test_an_endpoint_needs_an_http_url_and_an_event(mara_client, allow_private):
    response = mara_client.post(PAGE, {"url": "ftp://example.com/"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Pick at least one event." in page
    assert not Endpoint.objects.exists()


def test_the_documented_snippet_verifies_a_real_delivery(endpoint, receiver, allow_private):
    webhooks.send_test_event(endpoint=endpoint)
    assert webhooks.deliver(Delivery.objects.get().pk) == "delivered"
    [request] = receiver.requests
    namespace = {}
    exec(VERIFY_SNIPPET, namespace)  # our own constant: the snippet the page shows
    verify = namespace["is_from_passalong"]
    header = request["headers"][webhooks.SIGNATURE_HEADER]
    assert verify(request["body"], header, endpoint.secret)
    assert not verify(request["body"] + b" ", header, endpoint.secret)
    assert not verify(request["body"], header, "whsec_wrong")


def test_a_marketer_pauses_and_resumes_an_endpoint(mara_client, endpoint):
    assert mara_client.post(f"{PAGE}{endpoint.pk}/pause/").status_code == 302
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert "paused" in mara_client.get(PAGE).content.decode()
    assert mara_client.post(f"{PAGE}{endpoint.pk}/resume/").status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.is_active


def test_a_marketer_deletes_an_endpoint_with_its_deliveries(mara_client, endpoint):
    add_deliveries(endpoint, 3)
    assert mara_client.post(f"{PAGE}{endpoint.pk}/delete/").status_code == 302
    assert not Endpoint.objects.exists()
    assert not Delivery.objects.exists()
    assert "No endpoints yet" in mara_client.get(PAGE).content.decode()


def test_a_test_ping_is_recorded_and_listed_with_the_receivers_answer(
    mara_client, endpoint, receiver, allow_private
):
    receiver.status = 202
    assert mara_client.post(f"{PAGE}{endpoint.pk}/ping/").status_code == 302
    delivery = Delivery.objects.select_related("event").get()
    assert delivery.event.type == "ping"
    assert delivery.endpoint == endpoint
    assert webhooks.deliver(delivery.pk) == "delivered"  # what the task does after the commit
    page = mara_client.get(PAGE).content.decode()
    assert shown_event_ids(page) == [str(delivery.event.event_id)]
    assert "Delivered" in page and "202" in page


def test_a_paused_endpoint_gets_no_test_ping(mara_client, endpoint):
    Endpoint.objects.filter(pk=endpoint.pk).update(is_active=False)
    response = mara_client.post(f"{PAGE}{endpoint.pk}/ping/", follow=True)
    assert "resume it before sending a test ping" in response.content.decode()
    assert not Delivery.objects.exists()


def test_the_actions_refuse_get(mara_client, endpoint):
    for action in ("pause", "resume", "delete", "ping"):
        assert mara_client.get(f"{PAGE}{endpoint.pk}/{action}/").status_code == 405
    endpoint.refresh_from_db()
    assert endpoint.is_active
    assert not Delivery.objects.exists()


def test_the_actions_need_a_csrf_token(mara, endpoint):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(mara)
    assert strict.post(f"{PAGE}{endpoint.pk}/delete/").status_code == 403
    assert Endpoint.objects.exists()


def test_a_visitor_is_sent_to_log_in_and_a_member_is_refused(client, alice, endpoint):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    client.force_login(alice.user)
    assert client.get(PAGE).status_code == 403
    assert client.post(f"{PAGE}{endpoint.pk}/delete/").status_code == 403
    assert client.post(PAGE, {"url": "https://example.com/", "events": ["ping"]}).status_code == 403
    assert Endpoint.objects.filter(pk=endpoint.pk).exists()


def test_a_marketer_of_another_campaign_gets_a_404(client, endpoint, other_endpoint):
    olga = marketer_of(other_endpoint.campaign, "olga")
    client.force_login(olga)
    assert client.get("/dashboard/other/webhooks/").status_code == 200
    assert client.get(PAGE).status_code == 404
    for action in ("pause", "delete", "ping"):
        assert client.post(f"{PAGE}{endpoint.pk}/{action}/").status_code == 404
    assert Endpoint.objects.filter(pk=endpoint.pk, is_active=True).exists()


def test_another_campaigns_endpoint_cannot_be_touched_through_ones_own_url(
    mara_client, other_endpoint
):
    for action in ("pause", "resume", "delete", "ping"):
        response = mara_client.post(f"{PAGE}{other_endpoint.pk}/{action}/")
        assert response.status_code == 404
    assert Endpoint.objects.filter(pk=other_endpoint.pk, is_active=True).exists()
    assert not Delivery.objects.exists()
    assert other_endpoint.url not in mara_client.get(PAGE).content.decode()


def test_an_endpoint_id_too_big_for_the_database_is_a_404(mara_client):
    assert mara_client.post(f"{PAGE}{2**70}/pause/").status_code == 404
