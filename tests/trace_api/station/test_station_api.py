"""The station's server side: the published key set, the decode endpoint, and the app's shell under its own CSP."""

from __future__ import annotations

import io
import json

from PIL import Image

from scanner.verify import KEY_SET_FORMAT, OfflineVerifier
from tests.trace_api.client import Api
from tests.trace_api.network import setup_chain
from trace_api.labels.render import caption_lines, label_png
from trace_api.station.routes import MAX_UPLOAD


def test_the_key_set_lists_the_issuers_and_is_revalidated_by_etag(api: Api) -> None:
    importer, _token = api.org("宁波冷链进口有限公司", "producer")
    api.org("城东农贸市场", "retailer")
    reply = api.client.get("/api/v1/issuers")
    assert reply.status_code == 200
    document = reply.json()
    assert document["format"] == KEY_SET_FORMAT
    assert [entry["name"] for entry in document["issuers"]] == ["宁波冷链进口有限公司"]
    assert OfflineVerifier.from_json(reply.content).issuers == {importer["chain_address"]: "宁波冷链进口有限公司"}
    etag = reply.headers["ETag"]
    assert reply.headers["Cache-Control"] == "no-cache"
    unchanged = api.client.get("/api/v1/issuers", headers={"If-None-Match": etag})
    assert (unchanged.status_code, unchanged.content) == (304, b"")
    api.org("舟山水产加工厂", "producer")
    changed = api.client.get("/api/v1/issuers", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert len(changed.json()["issuers"]) == 2


def _issued_label(api: Api) -> tuple[str, bytes, str]:
    net = setup_chain(api)
    run = api.client.post(
        f"/api/v1/batches/{net['batch']['id']}/codes", headers=api.auth(str(net["imp"])), json={"count": 1}
    )
    assert run.status_code in (201, 202), run.text
    codes = api.client.get(f"/api/v1/batches/{net['batch']['id']}/codes", headers=api.auth(str(net["imp"]))).json()
    serial = codes[0]["serial"]
    png = api.client.get(
        f"/api/v1/batches/{net['batch']['id']}/codes/{serial}/label.png", headers=api.auth(str(net["imp"]))
    )
    assert png.status_code == 200
    return str(net["imp"]), png.content, serial


def test_a_photo_of_a_printed_label_is_decoded_and_checked(api: Api) -> None:
    token, png, serial = _issued_label(api)
    reply = api.client.post("/api/v1/decode", headers=api.auth(token), files={"file": ("label.png", png, "image/png")})
    assert reply.status_code == 200, reply.text
    (code,) = reply.json()["codes"]
    assert (code["symbol"], code["verdict"], code["genuine"]) == ("QRCode", "genuine", True)
    assert code["code"]["serial"] == serial
    assert code["issuer"] == "进口商"
    assert api.client.get("/api/v1/alerts", headers=api.auth(api.regulator_token)).json() == []


def test_a_forged_label_is_decoded_and_flagged(api: Api) -> None:
    _importer, token = api.org("进口商", "producer")
    forged = "https://trace.example.cn/01/09506000134352/10/L1/21/ABC?s=" + "A" * 86
    png = label_png(forged, caption_lines(forged, expiry=None, name="x", locale="en"))
    reply = api.client.post("/api/v1/decode", headers=api.auth(token), files={"file": ("f.png", png, "image/png")})
    (code,) = reply.json()["codes"]
    assert (code["genuine"], code["verdict"]) == (False, "malformed_signature")
    [alert] = api.client.get("/api/v1/alerts", headers=api.auth(api.regulator_token)).json()
    assert (alert["kind"], alert["detail"]["verdict"], alert["subject"]) == (
        "forged_code",
        "malformed_signature",
        "进口商",
    )
    assert alert["scanned"] == "/01/09506000134352/10/L1/21/ABC"


def test_decoding_needs_a_token_and_refuses_oversize_and_non_images(api: Api) -> None:
    _org, token = api.org("进口商", "producer")
    png = io.BytesIO()
    Image.new("L", (10, 10)).save(png, "PNG")
    anonymous = api.client.post("/api/v1/decode", files={"file": ("a.png", png.getvalue(), "image/png")})
    assert anonymous.status_code == 401
    huge = api.client.post(
        "/api/v1/decode", headers=api.auth(token), files={"file": ("a.png", b"\0" * (MAX_UPLOAD + 1), "image/png")}
    )
    assert (huge.status_code, huge.json()["error"]) == (413, "PayloadTooLarge")
    text = api.client.post("/api/v1/decode", headers=api.auth(token), files={"file": ("a.txt", b"hello", "text/plain")})
    assert (text.status_code, text.json()["error"]) == (415, "UnsupportedMediaType")
    pdf = api.client.post(
        "/api/v1/decode", headers=api.auth(token), files={"file": ("a.pdf", b"%PDF-1.7", "application/pdf")}
    )
    assert pdf.status_code == 415


def test_the_station_runs_its_own_scripts_under_its_own_policy_and_other_pages_stay_script_free(api: Api) -> None:
    app = api.client.get("/scan")
    assert app.status_code == 200
    policy = app.headers["Content-Security-Policy"]
    assert "script-src 'self' 'wasm-unsafe-eval'" in policy
    assert "worker-src 'self'" in policy
    assert "connect-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "http" not in policy
    assert '<script type="module" src="/scan/static/app.js">' in app.text
    login = api.client.get("/login")
    assert "script-src" not in login.headers["Content-Security-Policy"]
    assert "default-src 'none'" in login.headers["Content-Security-Policy"]


def test_the_service_worker_may_control_the_app_and_caches_every_asset(api: Api) -> None:
    worker = api.client.get("/scan/sw.js")
    assert worker.status_code == 200
    assert worker.headers["Service-Worker-Allowed"] == "/scan"
    assert worker.headers["Content-Type"].startswith("text/javascript")
    assert "__VERSION__" not in worker.text
    assert "__SHELL__" not in worker.text
    shell = json.loads(worker.text.split("const SHELL = ", 1)[1].split(";", 1)[0])
    assert {
        "/scan",
        "/scan/static/app.js",
        "/scan/static/vendor/zxing_reader.wasm",
        "/scan/static/vendor/noble.js",
    } <= set(shell)
    for path in shell:
        assert api.client.get(path).status_code == 200, path


def test_the_app_is_installable_and_its_libraries_come_from_this_server(api: Api) -> None:
    manifest = api.client.get("/scan/manifest.webmanifest")
    assert manifest.headers["Content-Type"] == "application/manifest+json"
    document = manifest.json()
    assert (document["start_url"], document["display"], document["lang"]) == ("/scan", "standalone", "zh-CN")
    sizes = set()
    for icon in document["icons"]:
        image = Image.open(io.BytesIO(api.client.get(icon["src"]).content))
        assert f"{image.width}x{image.height}" == icon["sizes"]
        sizes.add(icon["sizes"])
    assert sizes == {"192x192", "512x512"}
    wasm = api.client.get("/scan/static/vendor/zxing_reader.wasm")
    assert wasm.content[:4] == b"\0asm"
    camera = api.client.get("/scan/static/camera.js").text
    assert "/scan/static/vendor/" in camera, "zxing-wasm's .wasm is loaded from this server, not its default CDN"
