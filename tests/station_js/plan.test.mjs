// The running list becomes scans: one per code for per-item acts, one for a consignment.
import assert from "node:assert/strict";
import { test } from "node:test";

import { PlanError, planScans } from "../../trace_api/station/static/plan.js";

const line = (serial, scannedAt) => ({
  text: `https://trace.example.cn/01/09506000134352/10/L1/21/${serial}?s=x`,
  code: { path: `/01/09506000134352/10/L1/21/${serial}` },
  label: serial,
  scannedAt,
});
let counter = 0;
const newKey = () => `key-${++counter}`;
const NOW = "2026-12-05T08:00:00.000Z";

test("a sale is one scan per code, each with the time it was scanned", () => {
  const scans = planScans("sell", {}, [line("A", "t1"), line("B", "t2")], NOW, newKey);
  assert.equal(scans.length, 2);
  assert.deepEqual(
    scans.map((s) => [s.scan.codes.length, s.scan.event_time]),
    [
      [1, "t1"],
      [1, "t2"],
    ],
  );
  assert.notEqual(scans[0].key, scans[1].key);
});

test("a shipment is one scan naming every code, to the receiver's USCC", () => {
  const [scan] = planScans("ship", { to_org: " 91330100ma2000101x " }, [line("A"), line("B")], NOW, newKey);
  assert.deepEqual(scan.scan.codes.length, 2);
  assert.equal(scan.scan.to_org, "91330100MA2000101X");
  assert.equal(scan.scan.event_time, NOW);
});

test("an inspection carries its result, a transformation its output", () => {
  const [inspect] = planScans("inspect", { passed: false, reason: "农残超标" }, [line("A")], NOW, newKey);
  assert.deepEqual([inspect.scan.passed, inspect.scan.reason], [false, "农残超标"]);
  const params = { output_gtin: "09506000134376", output_lot: "P1", output_quantity: "40" };
  const [transform] = planScans("transform", params, [line("A")], NOW, newKey);
  assert.deepEqual(transform.scan.output, { gtin: "09506000134376", lot: "P1", quantity: 40 });
});

test("a whole shipment may be received without naming codes, but nothing is sold from an empty list", () => {
  const [receive] = planScans("receive", { shipment: "12" }, [], NOW, newKey);
  assert.deepEqual([receive.scan.shipment_id, receive.scan.codes], [12, []]);
  assert.throws(
    () => planScans("sell", {}, [], NOW, newKey),
    (e) => e instanceof PlanError && e.key === "empty_list",
  );
});

test("a missing field is named before anything is queued", () => {
  assert.throws(
    () => planScans("ship", { to_org: "" }, [line("A")], NOW, newKey),
    (e) => e instanceof PlanError && e.values.field === "to_org",
  );
  assert.throws(
    () => planScans("pack", {}, [line("A")], NOW, newKey),
    (e) => e.values.field === "sscc",
  );
});
