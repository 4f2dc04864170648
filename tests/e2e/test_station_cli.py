"""The fixed station (``lotline scanner``) against a real server that goes down and comes back: scans taken during
the outage wait in the outbox and are sent, once each, when it returns; ``lotline scan`` reads printed labels."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from chain.anvil import free_port
from ledger.identifiers import make_uscc
from ledger.keys import KeyVault
from ledger.models import Role
from ledger.registry import create_organisation
from ledger.settings import Environment, Settings
from scanner.keyset import load_key_set
from scanner.outbox import Outbox, OutboxState
from scanner.station import Station
from tests.browser.conftest import LiveApp
from tests.browser.station import Stall, build_stall, sales_in
from trace_api.app import create_app
from trace_api.cli import app as cli
from trace_api.labels.render import LabelSpec, caption_lines, label_png, label_sheet_pdf

SECRET = "station-cli-test-secret-key-long-enough-0123"


@dataclass
class Server:
    """uvicorn serving the app on a fixed port, stopped and started again like a server that goes away."""

    settings: Settings
    port: int
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        config = uvicorn.Config(create_app(self.settings), host="127.0.0.1", port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            assert self._thread.is_alive(), "uvicorn stopped before it served"
            assert time.monotonic() < deadline, "uvicorn did not start within 30 s"
            time.sleep(0.02)

    def stop(self) -> None:
        assert self._server is not None
        assert self._thread is not None
        self._server.should_exit = True
        self._thread.join(timeout=30)


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[Server]:
    settings = Settings(
        environment=Environment.TEST,
        data_dir=tmp_path / "server",
        database_url=database_url,
        secret_key=SECRET,
        public_url="https://trace.example.cn",
    )
    running = Server(settings, free_port())
    running.start()
    yield running
    if running._server is not None and not running._server.should_exit:
        running.stop()


@pytest.fixture
def stall(server: Server, session_factory: sessionmaker[Session], tmp_path: Path) -> Iterator[Stall]:
    with session_factory() as session:
        _org, token = create_organisation(
            session,
            KeyVault(SECRET),
            name="市场监督管理局",
            uscc=make_uscc("11330100MB0000001"),
            roles=[Role.REGULATOR],
        )
        session.commit()
    with httpx.Client(base_url=server.url, timeout=30) as http:
        signer = server._server.config.app.state.lotline.signer  # type: ignore[union-attr]
        live = LiveApp(server.url, http, token, session_factory, signer, "", tmp_path)
        yield build_stall(live, holding=8)


def _scanner(server: Server, stall: Stall, outbox: Path, lines: list[str], data_dir: Path) -> tuple[int, str]:
    args = ["scanner", "--org", stall.uscc, "--action", "sell", "--api", server.url, "--token", stall.token]
    args += ["--outbox", str(outbox), "--retry-every", "0"]
    result = CliRunner().invoke(
        cli, args, input="".join(f"{line}\n" for line in lines), env={"LOTLINE_DATA_DIR": str(data_dir)}
    )
    return result.exit_code, result.output


def test_scans_taken_while_the_server_is_down_are_sent_once_when_it_returns(
    server: Server, stall: Stall, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    def live_sales() -> int:
        return sales_in(session_factory)

    outbox, data_dir = tmp_path / "outbox.sqlite", tmp_path / "station"
    code, output = _scanner(server, stall, outbox, stall.codes[:2], data_dir)
    assert code == 0, output
    assert "sent: 1 accepted" in output
    assert live_sales() == 2

    server.stop()
    forged = stall.codes[2].replace(f"/21/{stall.serials[2]}", f"/21/{stall.serials[3]}")
    code, output = _scanner(server, stall, outbox, [*stall.codes[2:5], forged], data_dir)
    assert code == 3, output  # three scans still waiting
    assert "offline: 3 waiting in the outbox" in output
    # the forged code is flagged from the key set cached while the server was up
    assert "unknown_issuer" in output
    assert "(not queued)" in output
    box = Outbox(outbox)
    assert box.counts() == {OutboxState.PENDING: 3, OutboxState.ACCEPTED: 2, OutboxState.REFUSED: 0}
    box.close()

    server.start()
    code, output = _scanner(server, stall, outbox, [], data_dir)
    assert code == 0, output
    assert "sent: 3 accepted" in output
    assert live_sales() == 5
    code, output = _scanner(server, stall, outbox, [], data_dir)
    assert (code, live_sales()) == (0, 5), "nothing is sent twice"


class _AnswerLost(httpx.HTTPTransport):
    """The request reaches the server and is recorded, but the connection drops before the answer arrives."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        response.read()
        if request.url.path == "/api/v1/scans/lines":
            raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")
        return response


def test_a_sync_whose_answer_is_lost_is_replayed_not_recorded_again(
    server: Server, stall: Stall, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    box = Outbox(tmp_path / "outbox.sqlite")
    headers = {"Authorization": f"Bearer {stall.token}"}
    with httpx.Client(base_url=server.url, headers=headers, transport=_AnswerLost()) as flaky:
        station = Station(box, flaky, load_key_set(flaky, tmp_path / "issuers.json"), {"action": "sell"})
        for code in stall.codes[:3]:
            assert station.take(code).key is not None
        report = station.sync()
    assert (report.offline, report.pending) == (True, 3)
    assert sales_in(session_factory) == 3, "the server did record them"
    with httpx.Client(base_url=server.url, headers=headers) as client:
        report = Station(box, client, load_key_set(client, tmp_path / "issuers.json"), {"action": "sell"}).sync()
    assert (report.accepted, report.pending, report.offline) == (3, 0, False)
    assert sales_in(session_factory) == 3
    box.close()


def test_lotline_scan_reads_a_printed_label_and_a_label_sheet(server: Server, stall: Stall, tmp_path: Path) -> None:
    png = tmp_path / "label.png"
    png.write_bytes(label_png(stall.codes[0], caption_lines(stall.codes[0], expiry=None, name="牛腱", locale="zh-CN")))
    pdf = tmp_path / "sheet.pdf"
    pdf.write_bytes(label_sheet_pdf([LabelSpec(uri) for uri in stall.codes], title="sheet"))
    env = {"LOTLINE_DATA_DIR": str(tmp_path / "station")}
    one = CliRunner().invoke(cli, ["scan", str(png), "--api", server.url], env=env)
    assert one.exit_code == 0, one.output
    assert f"genuine            {stall.codes[0]}" in one.output
    sheet = CliRunner().invoke(cli, ["scan", str(pdf), "--api", server.url, "--json"], env=env)
    assert sheet.exit_code == 0, sheet.output
    assert sorted(code["text"] for code in json.loads(sheet.output)) == sorted(stall.codes)


def test_a_station_refuses_to_start_with_another_organisations_token_or_a_bad_one(
    server: Server, stall: Stall, tmp_path: Path
) -> None:
    runner = CliRunner()
    base = ["scanner", "--action", "sell", "--api", server.url, "--outbox", str(tmp_path / "o.sqlite")]
    env = {"LOTLINE_DATA_DIR": str(tmp_path / "station")}
    other = runner.invoke(cli, [*base, "--org", "91330100MA2000999X", "--token", stall.token], input="", env=env)
    assert other.exit_code == 2
    assert f"belongs to {stall.uscc}" in other.output
    bad = runner.invoke(cli, [*base, "--org", stall.uscc, "--token", "ll_not-a-token"], input="", env=env)
    assert bad.exit_code == 2
    assert "refused the token" in bad.output
