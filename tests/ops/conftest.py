"""/metrics read as Prometheus reads it: over HTTP, with the token, parsed by prometheus-client."""

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

TOKEN = "metrics-token-for-the-tests-0123456789"


def parse(text: str) -> dict:
    """{(sample name, frozenset of label pairs): value} for every sample in a scrape."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels) -> float:
    """One sample's value; 0 when the series is not there (yet)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def metrics_on(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOW = []


@pytest.fixture
def scrape_text(metrics_on):
    """Read /metrics as a scraper would (its own client: no session, no cookies)."""
    scraper = Client()

    def read() -> str:
        response = scraper.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        assert response.status_code == 200, response.content
        return response.content.decode()

    return read


@pytest.fixture
def scrape(scrape_text):
    """A scrape, parsed: see `value`."""
    return lambda: parse(scrape_text())
