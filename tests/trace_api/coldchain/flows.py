"""A vaccine maker, a clinic and an importer of frozen beef registered over the API, with shipments between them
and logger files as loggers export them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from tests.trace_api.client import Api
from tests.trace_api.network import COLD, scan

CHINA = timezone(timedelta(hours=8))
VACCINE = {
    "vaccine_approval_no": "国药准字S20260001",
    "lot_release_cert_no": "SJ20261234",
    "manufacturer": "某生物制品有限公司",
    "expiry_date": "2030-01-01",
}


@dataclass
class Flow:
    maker: dict[str, Any]
    maker_token: str
    clinic: dict[str, Any]
    clinic_token: str
    gtin: str
    lot: str
    shipment_id: int
    shipped_at: datetime  # on the hour, two days ago: the readings follow it


def vaccine_shipment(api: Api, quantity: int = 20) -> Flow:
    maker, maker_token = api.org("某生物制品有限公司", "producer")
    clinic, clinic_token = api.org("西湖区接种门诊", "vaccinator")
    product = api.client.post(
        "/api/v1/products",
        headers=api.auth(maker_token),
        json={"name": "流感疫苗", "category": "vaccine", "storage_min_c": 2, "storage_max_c": 8},
    )
    assert product.status_code == 201, product.text
    gtin = product.json()["gtin"]
    batch = api.client.post(
        "/api/v1/batches",
        headers=api.auth(maker_token),
        json={"gtin": gtin, "lot": "V2026-01", "quantity": 100, **VACCINE},
    )
    assert batch.status_code == 201, batch.text
    shipped_at = (datetime.now(UTC) - timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    line = {"gtin": gtin, "lot": "V2026-01", "quantity": quantity}
    shipment = scan(
        api,
        maker_token,
        {"action": "ship", "to_org": clinic["uscc"], "lines": [line], "event_time": shipped_at.isoformat()},
    )
    return Flow(maker, maker_token, clinic, clinic_token, gtin, "V2026-01", shipment["shipment_id"], shipped_at)


def beef_shipment(api: Api) -> tuple[str, str, int, datetime]:
    """An importer ships 30 frozen beef to a market: (importer token, market token, shipment id, shipped at)."""
    _importer, imp_token = api.org("浙江冷链进口有限公司", "producer")
    market, mkt_token = api.org("一级批发市场", "distributor")
    product = api.client.post(
        "/api/v1/products",
        headers=api.auth(imp_token),
        json={"name": "冷冻牛肉", "category": "cold_chain", "storage_max_c": -18},
    )
    gtin = product.json()["gtin"]
    batch = api.client.post(
        "/api/v1/batches", headers=api.auth(imp_token), json={"gtin": gtin, "lot": "BR2026A", "quantity": 100, **COLD}
    )
    assert batch.status_code == 201, batch.text
    shipped_at = (datetime.now(UTC) - timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    line = {"gtin": gtin, "lot": "BR2026A", "quantity": 30}
    shipment = scan(
        api,
        imp_token,
        {"action": "ship", "to_org": market["uscc"], "lines": [line], "event_time": shipped_at.isoformat()},
    )
    return imp_token, mkt_token, shipment["shipment_id"], shipped_at


def logger_csv(
    start: datetime, spells: list[tuple[int, int, float]], *, every: int = 5, device: str = "RC5-2001"
) -> bytes:
    """An Elitech-style export in GBK: a note naming the device, then numbered readings in China's local time;
    ``spells`` are (from minute, to minute, °C) after ``start``."""
    lines = ["精创冷链温度记录仪", f"设备编号：{device}", "序号,时间,温度(℃)"]
    minutes = [(m, celsius) for first, last, celsius in spells for m in range(first, last, every)]
    for n, (minute, celsius) in enumerate(minutes, start=1):
        local = (start + timedelta(minutes=minute)).astimezone(CHINA)
        lines.append(f"{n},{local:%Y/%m/%d %H:%M:%S},{celsius}")
    return ("\r\n".join(lines) + "\r\n").encode("gbk")


def upload(api: Api, token: str, shipment_id: int, content: bytes) -> Any:
    return api.client.post(
        f"/api/v1/temperature/files?shipment_id={shipment_id}",
        headers=api.auth(token),
        files={"file": ("rc5-2001.csv", content, "text/csv")},
    )
