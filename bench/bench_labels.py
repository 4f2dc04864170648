"""Signed PNG labels per second and the time to sign a run of codes (the targets are in docs/performance.md).

    .venv/bin/python bench/bench_labels.py [--labels N] [--codes N] [--workers N]

Measures, on signed item Digital Links (~160 characters, QR version 8-9):
(a) one QR symbol at a fixed version and mask: pure-Python ``qrcode`` against zxing-cpp's encoder (the choice
    made in ``trace_api/labels/render.py``);
(b) signed PNG labels/s: sign the code, build its URI and caption, render the PNG; in one process, then over a
    pool of ``--workers`` processes;
(c) serials drawn and signatures for ``--codes`` codes of one batch, with ``sign_item_serials`` on ``--workers``
    processes (what issuing a run costs on top of inserting its rows).

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path

import qrcode
from qrcode.constants import ERROR_CORRECT_M

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledger.code_signing import CodeSigner, sign_item_serials, signed_uri
from ledger.identifiers import DigitalLink, new_serials
from ledger.keys import generate_private_key
from trace_api.labels.render import DATA_MASK, QrEncoder, caption_lines, label_png

BASE = "https://trace.example.cn"
GTIN, LOT, EXPIRY = "09506000134352", "L2026A", date(2027, 6, 30)


def qr_encoders(uris: Sequence[str]) -> None:
    encoder = QrEncoder()
    version = encoder.version_for(uris[0])
    started = time.perf_counter()
    for uri in uris:
        symbol = qrcode.QRCode(version=version, error_correction=ERROR_CORRECT_M, mask_pattern=DATA_MASK)
        symbol.add_data(uri)
        symbol.make(fit=False)
    pure = (time.perf_counter() - started) / len(uris) * 1e3
    started = time.perf_counter()
    for uri in uris:
        encoder.modules(uri, version)
    native = (time.perf_counter() - started) / len(uris) * 1e3
    print(f"(a) QR version {version}-M, fixed mask: qrcode {pure:.2f} ms/symbol, zxing-cpp {native:.3f} ms/symbol")


def _signed_labels(key: bytes, serials: Sequence[str]) -> tuple[int, float]:
    """The whole path of printed labels: the bytes written (so no work can be skipped) and the CPU seconds."""
    cpu = time.process_time()
    signer = CodeSigner(key)
    written = 0
    for serial in serials:
        link = DigitalLink(gtin=GTIN, lot=LOT, serial=serial)
        uri = signed_uri(link, BASE, signer.sign(link))
        written += len(label_png(uri, caption_lines(link, expiry=EXPIRY, name="冷冻带鱼")))
    return written, time.process_time() - cpu


def labels_per_second(key: bytes, count: int, workers: int) -> None:
    serials = new_serials(count)
    _signed_labels(key, serials[:50])  # fonts, caches
    started = time.perf_counter()
    _, cpu = _signed_labels(key, serials)
    single = count / (time.perf_counter() - started)
    chunks = [serials[i : i + 500] for i in range(0, count, 500)]
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        list(pool.map(_signed_labels, [key] * workers, [serials[:50]] * workers))  # start and warm every worker
        started = time.perf_counter()
        results = list(pool.map(_signed_labels, [key] * len(chunks), chunks))
        pooled = count / (time.perf_counter() - started)
    written = sum(size for size, _ in results)
    pool_cpu = sum(seconds for _, seconds in results)
    print(f"(b) signed PNG labels: {single:,.0f}/s in one process, {pooled:,.0f}/s on {workers} processes")
    print(
        f"    CPU per label: {cpu / count * 1e3:.2f} ms in one process, {pool_cpu / count * 1e3:.2f} ms in the pool"
        f" -> {workers * count / pool_cpu:,.0f}/s on {workers} otherwise idle cores"
    )
    print(f"    ({count:,} labels, {written / count / 1024:.1f} KiB each)")


def sign_run(key: bytes, count: int, workers: int) -> None:
    sample = new_serials(20_000)
    cpu = time.process_time()
    sign_item_serials(key, GTIN, LOT, sample, workers=1)
    per_code = (time.process_time() - cpu) / len(sample)
    started = time.perf_counter()
    serials = new_serials(count)
    drawn = time.perf_counter() - started
    started = time.perf_counter()
    signatures = sign_item_serials(key, GTIN, LOT, serials, workers=workers)
    signed = time.perf_counter() - started
    assert len(signatures) == count
    print(f"(c) {count:,} codes: serials {drawn:.1f} s, signatures {signed:.1f} s on {workers} processes")
    print(f"    ({count / signed:,.0f} signatures/s; one process spends {per_code * 1e6:.1f} µs CPU per code,")
    print(f"    so {count:,} codes need {per_code * count / workers:.1f} s on {workers} otherwise idle cores)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=int, default=20_000)
    parser.add_argument("--codes", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    key = generate_private_key()
    signer = CodeSigner(key)
    sample = [DigitalLink(gtin=GTIN, lot=LOT, serial=serial) for serial in new_serials(300)]
    qr_encoders([signed_uri(link, BASE, signer.sign(link)) for link in sample])
    labels_per_second(key, args.labels, args.workers)
    sign_run(key, args.codes, args.workers)


if __name__ == "__main__":
    main()
