"""Every operation of the OpenAPI, driven by schemathesis with bounded examples and a fixed seed: whatever a
careless or hostile client sends, the API answers with a refusal (4xx), never with a server error (5xx)."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, seed, settings

from ledger.settings import Environment, Settings
from tests.trace_api.client import SECRET, Api
from tests.trace_api.network import COLD
from trace_api.app import create_app

EXAMPLES = 25

# The document only: building it reads no database.
OPENAPI = create_app(
    Settings(environment=Environment.TEST, data_dir=Path("."), database_url="sqlite://", secret_key=SECRET)
).openapi()
schema = schemathesis.openapi.from_dict(OPENAPI)


@pytest.fixture
def token(api: Api) -> str:
    """An organisation that holds every trade role and owns a product and a batch."""
    _org, token = api.org("全角色企业", "producer", "distributor", "retailer")
    product = api.client.post(
        "/api/v1/products", headers=api.auth(token), json={"name": "牛肉", "category": "cold_chain"}
    )
    assert product.status_code == 201, product.text
    batch = api.client.post(
        "/api/v1/batches",
        headers=api.auth(token),
        json={"gtin": product.json()["gtin"], "lot": "L1", "quantity": 10, **COLD},
    )
    assert batch.status_code == 201, batch.text
    return token


@schema.parametrize()
@seed(20261205)
@settings(max_examples=EXAMPLES, phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
def test_no_operation_answers_with_a_server_error(case: schemathesis.Case, api: Api, token: str) -> None:
    kwargs = case.as_transport_kwargs(base_url="http://testserver", headers={"Authorization": f"Bearer {token}"})
    # The app as the client's lifespan built it, but answering a crash with a 500 as a server would.
    reply = TestClient(api.client.app, raise_server_exceptions=False).request(**kwargs)
    assert reply.status_code < 500, f"{reply.status_code} {reply.text[:300]}\n{case.as_curl_command()}"
