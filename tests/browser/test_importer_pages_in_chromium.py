"""The importer's pages in Chromium, at a phone's and a desktop's size, in Chinese and English: products, the batch
form of each flow, the batch list's search and pages, code runs with their progress, and labels downloaded from
the page with its session cookie."""

from __future__ import annotations

import io
import re
import threading
from pathlib import Path
from typing import Any

import zxingcpp
from PIL import Image
from playwright.sync_api import expect
from pypdf import PdfReader

from ledger.codes import continue_run
from tests.browser.conftest import COLD, LiveApp, View

FARM = {"farm_origin": "浙江省安吉县白茶基地", "harvest_date": "2026-04-02"}
VACCINE = {
    "vaccine_approval_no": "国药准字S20260001",
    "lot_release_cert_no": "SJ20260001",
    "manufacturer": "某某生物制品有限公司",
    "expiry_date": "2028-06-30",
}
FLOW_BOXES = {
    "cold_chain": {
        "customs_declaration_no",
        "origin_country",
        "quarantine_cert_no",
        "nucleic_acid_test_no",
        "nucleic_acid_result",
        "disinfection_cert_no",
        "production_date",
        "expiry_date",
    },
    "farm_produce": {"farm_origin", "harvest_date", "rapid_test_result", "rapid_test_no", "expiry_date"},
    "vaccine": {"vaccine_approval_no", "lot_release_cert_no", "manufacturer", "production_date", "expiry_date"},
}
REQUIRED = {
    "cold_chain": {
        "customs_declaration_no",
        "origin_country",
        "quarantine_cert_no",
        "nucleic_acid_test_no",
        "disinfection_cert_no",
    },
    "farm_produce": {"farm_origin", "harvest_date"},
    "vaccine": {"vaccine_approval_no", "lot_release_cert_no", "manufacturer", "expiry_date"},
}
FLOW_NAMES = {
    "cold_chain": ("进口冷链食品", "Imported cold-chain food"),
    "farm_produce": ("农产品", "Farm produce"),
    "vaccine": ("疫苗", "Vaccine"),
}


def importer(live: LiveApp) -> tuple[dict[str, Any], str]:
    return live.org("宁波冷链进口有限公司", "producer")


def product(live: LiveApp, token: str, name: str, category: str) -> dict[str, Any]:
    return live.post("/api/v1/products", token, {"name": name, "category": category})


def batch(live: LiveApp, token: str, gtin: str, lot: str, quantity: int = 100) -> dict[str, Any]:
    return live.post("/api/v1/batches", token, {"gtin": gtin, "lot": lot, "quantity": quantity, **COLD})


def test_an_importer_registers_a_product_and_sees_it_listed(view: View, live: LiveApp, screenshots: Path) -> None:
    _org, token = importer(live)
    page = view.page
    view.sign_in(token, "/app/products")
    expect(page.locator("[data-field=empty]")).to_have_text(
        view.words("贵单位还没有登记产品。", "Your organisation has no products yet.")
    )

    page.get_by_label(view.words("产品名称", "Product name")).fill("冷冻带鱼")
    page.get_by_label(view.words("英文名称（可选）", "English name (optional)")).fill("Frozen hairtail")
    page.get_by_label(view.words("类别", "Category")).select_option("cold_chain")
    page.get_by_label(view.words("最低 (°C)", "Lowest (°C)")).fill("-30")
    page.get_by_label(view.words("最高 (°C)", "Highest (°C)")).fill("-18")
    page.get_by_role("button", name=view.words("登记产品", "Register product")).click()

    expect(page).to_have_url(re.compile(r"/app/products\?created=0697\d{10}#product-0697\d{10}$"))
    gtin = page.url.split("created=")[1].split("#")[0]
    expect(page.locator("[data-field=created]")).to_contain_text(gtin)
    row = page.locator(f"tr[data-gtin='{gtin}']")
    expect(row).to_contain_text("冷冻带鱼")
    expect(row).to_contain_text(view.words("-30 ~ -18 °C", "-30 to -18 °C"))
    view.fits()
    page.screenshot(path=screenshots / f"products-{view.size}-{view.lang}.png", full_page=True)

    page.get_by_label(view.words("产品名称", "Product name")).fill("冷冻鱿鱼")
    page.get_by_label(view.words("类别", "Category")).select_option("cold_chain")
    page.get_by_label(view.words("商品条码 (GTIN)", "GTIN")).fill("06901234567890")
    page.get_by_role("button", name=view.words("登记产品", "Register product")).click()
    expect(page.get_by_role("alert")).to_contain_text(
        view.words("商品条码 (GTIN) 无效，请检查校验位。", "Invalid GTIN: check the check digit.")
    )
    expect(page.locator("tbody tr")).to_have_count(1)  # nothing written

    row.get_by_role("link", name=view.words("登记批次", "Register a batch")).click()
    expect(page.locator(".tabs [aria-current=page]")).to_have_text(view.words(*FLOW_NAMES["cold_chain"]))
    expect(page.locator("select[name=gtin]")).to_have_value(gtin)


def test_the_batch_form_shows_only_the_chosen_flows_boxes(view: View, live: LiveApp, screenshots: Path) -> None:
    _org, token = importer(live)
    gtins = {c: product(live, token, f"产品 {c}", c)["gtin"] for c in ("cold_chain", "farm_produce", "vaccine")}
    page = view.page
    view.sign_in(token, "/app/batches/new")
    form = page.locator("form[data-flow]")

    for flow, boxes in FLOW_BOXES.items():
        page.locator(".tabs").get_by_role("link", name=view.words(*FLOW_NAMES[flow])).click()
        expect(form).to_have_attribute("data-flow", flow)
        shown = set(form.locator("input:not([type=hidden]), select").evaluate_all("els => els.map(e => e.name)"))
        assert shown == {"gtin", "lot", "quantity", *boxes}
        required = form.locator("[aria-required=true]").evaluate_all("els => els.map(e => e.name)")
        assert set(required) == REQUIRED[flow]
        assert form.locator("select[name=gtin] option").all_inner_texts()[1:] == [f"产品 {flow} · {gtins[flow]}"]
        view.fits()
    page.screenshot(path=screenshots / f"batch-form-vaccine-{view.size}-{view.lang}.png", full_page=True)

    page.locator("select[name=gtin]").select_option(gtins["vaccine"])
    page.locator("[name=lot]").fill("VX2026A")
    page.locator("[name=quantity]").fill("500")
    page.locator("[name=vaccine_approval_no]").fill(VACCINE["vaccine_approval_no"])
    page.get_by_role("button", name=view.words("登记", "Register"), exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text(
        view.words("此类产品登记时必须填写：批签发证明、生产企业、有效期至。", "must declare: Lot release certificate")
    )
    expect(form).to_have_attribute("data-flow", "vaccine")  # a refused form comes back in its own flow
    expect(page.locator("[name=lot]")).to_have_value("VX2026A")
    for name, value in VACCINE.items():
        page.locator(f"[name={name}]").fill(value)
    page.get_by_role("button", name=view.words("登记", "Register"), exact=True).click()

    expect(page).to_have_url(re.compile(r"/app/batches/\d+$"))
    expect(page.locator("h1")).to_contain_text("VX2026A")
    expect(page.locator(".facts").nth(1)).to_contain_text("SJ20260001")


def test_the_batch_list_is_searched_and_paged_with_a_count(view: View, live: LiveApp, screenshots: Path) -> None:
    _org, token = importer(live)
    beef = product(live, token, "冷冻牛腱", "cold_chain")["gtin"]
    fish = product(live, token, "冷冻带鱼", "cold_chain")["gtin"]
    for n in range(1, 52):
        batch(live, token, beef if n % 2 else fish, f"LOT-{n:02d}")
    page = view.page
    view.sign_in(token, "/app/batches")

    count = page.locator("[data-field=count]")
    expect(count).to_have_text(view.words("第 1–50 个，共 51 个批次", "1–50 of 51 batches"))
    expect(page.locator("tbody tr")).to_have_count(50)
    expect(page.locator("tbody tr").first).to_contain_text("LOT-51")  # newest first
    view.fits()
    page.screenshot(path=screenshots / f"batches-{view.size}-{view.lang}.png")
    page.get_by_role("link", name=view.words("下一页", "Next")).click()
    expect(count).to_have_text(view.words("第 51–51 个，共 51 个批次", "51–51 of 51 batches"))
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody tr")).to_contain_text("LOT-01")
    page.get_by_role("link", name=view.words("上一页", "Previous")).click()
    expect(page.locator("tbody tr")).to_have_count(50)

    search = page.get_by_role("searchbox")
    search.fill("带鱼")
    search.press("Enter")
    expect(count).to_have_text(view.words("第 1–25 个，共 25 个批次", "1–25 of 25 batches"))
    expect(page.get_by_role("navigation", name=view.words("分页", "Pages"))).to_have_count(0)
    search.fill("lot-07")
    search.press("Enter")
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody tr")).to_contain_text("LOT-07")
    search.fill("100%_")
    search.press("Enter")
    expect(count).to_have_text(view.words("没有与“100%_”匹配的批次。", "No batch matches “100%_”."))


def test_codes_are_issued_from_the_batch_page_and_labels_download_with_the_session(
    view: View, live: LiveApp, screenshots: Path
) -> None:
    _org, token = importer(live)
    registered = batch(live, token, product(live, token, "冷冻牛腱", "cold_chain")["gtin"], "BR2026A")
    page = view.page
    view.sign_in(token, f"/app/batches/{registered['id']}")

    page.get_by_label(view.words("签发数量", "Codes to issue")).fill("30")
    page.get_by_role("button", name=view.words("签发追溯码", "Issue codes")).click()
    expect(page).to_have_url(re.compile(r"/app/code-runs/\d+$"))
    expect(page.locator("[data-field=status]")).to_have_text(view.words("已完成", "Done"))
    expect(page.locator("#run-progress")).to_have_attribute("value", "30")
    assert page.locator("meta[http-equiv=refresh]").count() == 0  # a finished run stops refreshing
    page.get_by_role("link", name="冷冻牛腱 BR2026A").click()
    expect(page.locator("[data-field=issued]")).to_have_text(view.words("共 30 个", "30 in all"))
    view.fits()
    page.screenshot(path=screenshots / f"batch-codes-{view.size}-{view.lang}.png", full_page=True)

    with page.expect_download() as sheet:
        page.get_by_role("link", name=view.words("下载标签页 (PDF)", "Label sheet (PDF)")).click()
    pdf = PdfReader(io.BytesIO(Path(sheet.value.path()).read_bytes()))
    assert len(pdf.pages) == 2  # 30 labels, 24 a page
    assert view.words("第 1/2 页", "Page 1 of 2") in pdf.pages[0].extract_text()  # labels speak the page's language

    first = page.locator(".codes li").first
    serial = first.locator(".mono").inner_text()
    with page.expect_download() as png:
        first.get_by_role("link", name=view.words("标签 PNG", "label PNG")).click()
    image = Image.open(io.BytesIO(Path(png.value.path()).read_bytes()))
    (qr,) = zxingcpp.read_barcodes(image)
    assert qr.text.startswith(f"https://trace.example.cn/01/{registered['gtin']}/10/BR2026A/21/{serial}?s=")

    page.get_by_role("link", name=view.words("全部标签页", "All label sheets")).click()
    expect(page.locator(".sheets li")).to_have_count(1)
    with page.expect_download() as listed:
        page.get_by_role("link", name=view.words("标签 1–30 (PDF)", "Labels 1–30 (PDF)")).click()
    assert len(PdfReader(io.BytesIO(Path(listed.value.path()).read_bytes())).pages) == 2


def test_a_large_code_run_shows_its_progress_and_refreshes_itself_until_done(view: View, live: LiveApp) -> None:
    _org, token = importer(live)
    registered = batch(live, token, product(live, token, "冷冻牛腱", "cold_chain")["gtin"], "BIG1", 20_000)
    page = view.page
    view.sign_in(token, f"/app/batches/{registered['id']}")

    page.get_by_label(view.words("签发数量", "Codes to issue")).fill("10001")  # over the in-request limit
    page.get_by_role("button", name=view.words("签发追溯码", "Issue codes")).click()

    expect(page).to_have_url(re.compile(r"/app/code-runs/\d+$"))
    expect(page.locator("[data-field=status]")).to_have_text(view.words("排队中", "Queued"))
    expect(page.locator("meta[http-equiv=refresh]")).to_have_attribute("content", "2")
    expect(page.locator("#run-progress")).to_have_attribute("max", "10001")
    run_id = int(page.url.rsplit("/", 1)[1])
    # The worker's own task body, as `lotline.issue_codes` runs it.
    worker = threading.Thread(target=continue_run, args=(live.session_factory, live.signer, run_id))
    worker.start()
    worker.join(timeout=120)

    expect(page.locator("[data-field=status]")).to_have_text(view.words("已完成", "Done"), timeout=15_000)
    expect(page.locator("#run-progress")).to_have_attribute("value", "10001")
    page.get_by_role("link", name=view.words("本次的全部标签页", "All of this run's label sheets")).click()
    expect(page.locator(".sheets li")).to_have_count(42)  # 10,001 labels, 240 a sheet
    expect(page.locator(".sheets li").last).to_have_text(view.words("标签 9841–10001 (PDF)", "Labels 9841–10001 (PDF)"))
