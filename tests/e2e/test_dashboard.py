"""A marketer on the demo data, in a real browser: the campaign list, a
campaign's figures and charts (drawn by vendored Chart.js under the site's
CSP), granting invites to a top connector, and a seed import with its
progress bar and per-row report."""

import pytest
from django.core.management import call_command

from dashboard import imports, stats
from referrals.models import Campaign, ImportJob, Member

from .conftest import ARTIFACTS, DESKTOP

PASSWORD = "passalong-demo"  # seed_demo's logins


@pytest.fixture
def demo(transactional_db, campaign):
    quiet = open("/dev/null", "w")  # noqa: SIM115
    call_command("seed_demo", stdout=quiet)
    call_command("generate_campaign", members=1500, slug="synthetic", stdout=quiet)
    for each in Campaign.objects.all():
        stats.refresh(campaign=each)


def watch_errors(page) -> list[str]:
    errors: list[str] = []
    page.on(
        "console",
        lambda msg: errors.append(f"{msg.text} {msg.location}") if msg.type == "error" else None,
    )
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "response",
        lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    return errors


def log_in(page, base):
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", "marketer")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_marketer_reads_the_figures_and_seeds_a_campaign(live_server, browser, shoot, demo):
    page = browser.new_context(viewport=DESKTOP).new_page()
    errors = watch_errors(page)
    log_in(page, live_server.url)

    page.click("nav >> text=Dashboard")
    page.wait_for_url(f"{live_server.url}/dashboard/")
    campaigns = page.inner_text("[data-testid=campaigns]")
    assert "Passalong beta" in campaigns and "Synthetic campaign" in campaigns
    shoot(page, "dashboard-home")

    page.click("text=Passalong beta")
    page.wait_for_url(f"{live_server.url}/dashboard/default/")
    assert page.inner_text("[data-kpi=members] dd") == "10"
    assert "Figures as of" in page.inner_text("[data-testid=as-of]")
    # Chart.js drew all four charts: daily, funnel, generations, top connectors.
    page.wait_for_function(
        "document.querySelectorAll('canvas').length === 4 && "
        "[...document.querySelectorAll('canvas')].every(c => window.Chart.getChart(c))"
    )
    connectors = page.evaluate(
        "(() => { const c = Chart.getChart(document.getElementById('chart-connectors'));"
        " return c.data.datasets.map(d => d.label); })()"
    )
    assert connectors == ["Activated invitees", "Downline size"]
    assert page.inner_text("[data-testid=connectors] tbody tr:first-child td:nth-child(2)")
    shoot(page, "dashboard-campaign-demo")

    # Grant two more invites to the top connector.
    ada = Member.objects.get(user__username="ada")
    before = ada.invites_left
    page.check(f"#grant-{ada.pk}")
    page.fill("input[name=invites]", "2")
    page.click("text=Grant invites")
    page.wait_for_load_state()
    assert "Granted 2 extra invites to 1 member" in page.inner_text(".messages")
    ada.refresh_from_db()
    assert ada.invites_left == before + 2

    page.goto(f"{live_server.url}/dashboard/synthetic/")
    page.wait_for_function("[...document.querySelectorAll('canvas')].every(c => Chart.getChart(c))")
    assert page.inner_text("[data-kpi=members] dd") == "1,500"
    shoot(page, "dashboard-campaign-synthetic")
    # The tree-native figures: one row per generation, seed and connector branches.
    generations = page.locator("[data-testid=generations] tbody tr")
    assert generations.count() == len(Campaign.objects.get(slug="synthetic").stats.generations)
    assert page.locator("[data-branches=seed] tbody tr").count() >= 1
    assert page.locator("[data-branches=connector] tbody tr").count() >= 1
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for section in ("generations", "branches"):
        page.locator(f"#{section}").screenshot(path=ARTIFACTS / f"dashboard-{section}.png")
    # A branch's name leads to it in the tree explorer.
    page.click("[data-branches=seed] tbody tr:first-child a")
    page.wait_for_url(f"{live_server.url}/dashboard/synthetic/tree/?member=*")

    # Seed invitees from a CSV: the import page shows progress, then the report.
    page.goto(f"{live_server.url}/dashboard/default/seed/")
    shoot(page, "dashboard-seed")
    page.set_input_files(
        "input[name=file]",
        files=[
            {
                "name": "first-wave.csv",
                "mimeType": "text/csv",
                "buffer": b"name,email\nZoe,zoe@example.com\nBad,nope\nAda,ada@example.com\n",
            }
        ],
    )
    page.click("text=Upload and invite")
    page.wait_for_url(f"{live_server.url}/dashboard/default/imports/*/")
    job = ImportJob.objects.get()
    if job.status == "queued":  # a broker is configured but no worker runs: be the worker
        imports.run(job_id=job.pk)
    page.wait_for_selector("[data-testid=imported]")  # the poller reloads when it is done
    assert page.inner_text("[data-testid=imported]") == "1"
    report = page.inner_text("[data-testid=report]")
    assert "not a valid e-mail address" in report
    assert "already a member of this campaign" in report
    # The follow-up: Zoe's invite e-mail is queued or sent, and her status downloads.
    stages = page.inner_text("[data-testid=stages]")
    assert "Queued" in stages and "Active" in stages
    assert "zoe@example.com" in page.inner_text("[data-testid=people]")
    shoot(page, "dashboard-import")

    assert [e for e in errors if "favicon.ico" not in e] == []
