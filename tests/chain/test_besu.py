"""`lotline chain besu-config` writes a QBFT network Besu can start: checked by decoding what it wrote."""

from __future__ import annotations

import json
import stat
import tomllib
from pathlib import Path

from eth_keys import keys
from typer.testing import CliRunner

from chain.besu import decode_qbft_validators, qbft_extra_data
from trace_api.cli import app

ANCHORER = "0x1111111111111111111111111111111111111111"


def test_besu_config_writes_a_qbft_genesis_with_the_validators_and_zero_base_fee(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "chain",
            "besu-config",
            "--validators",
            "4",
            "--out",
            str(tmp_path),
            "--account",
            ANCHORER,
            "--chain-id",
            "20261",
        ],
    )
    assert result.exit_code == 0, result.output
    genesis = json.loads((tmp_path / "genesis.json").read_text())
    listed = json.loads((tmp_path / "validators.json").read_text())
    assert genesis["config"]["chainId"] == 20261
    assert genesis["config"]["zeroBaseFee"] is True
    assert "qbft" in genesis["config"]
    assert decode_qbft_validators(genesis["extraData"]) == [v["address"].lower() for v in listed]
    for v in listed:
        key = (tmp_path / f"validator-{v['index']}" / "key").read_text()
        assert keys.PrivateKey(bytes.fromhex(key[2:])).public_key.to_checksum_address() == v["address"]
        assert stat.S_IMODE((tmp_path / f"validator-{v['index']}" / "key").stat().st_mode) == 0o600
    assert ANCHORER[2:] in genesis["alloc"]

    permissions = tomllib.loads((tmp_path / "permissions_config.toml").read_text())
    assert ANCHORER in permissions["accounts-allowlist"]
    assert len(permissions["nodes-allowlist"]) == 4
    assert all(e.startswith("enode://") for e in permissions["nodes-allowlist"])


def test_qbft_extra_data_matches_besus_published_encoding_shape() -> None:
    # Besu's docs show 4-validator QBFT extraData starting 0xf87aa0 + 32 zero bytes (list of 122 bytes).
    extra = qbft_extra_data([f"0x{i:040x}" for i in range(1, 5)])
    assert extra.startswith("0xf87aa0" + "00" * 32)
    assert extra.endswith("c080c0")  # no vote, round 0, no seals


def test_besu_config_refuses_zero_validators(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["chain", "besu-config", "--validators", "0", "--out", str(tmp_path)])
    assert result.exit_code != 0
