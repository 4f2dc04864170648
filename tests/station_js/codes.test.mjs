// The browser station's parser and offline verifier against the vectors the Python scanner is tested on too.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { readScan } from "../../trace_api/station/static/codes.js";
import { KeySet, check } from "../../trace_api/station/static/verify.js";

const table = JSON.parse(readFileSync(new URL("../data/station/code-vectors.json", import.meta.url), "utf8"));
const keySet = new KeySet(table.key_set);
const FIELDS = ["kind", "gtin", "lot", "serial", "sscc", "path", "signature"];

for (const vector of table.vectors) {
  test(`reads: ${vector.name}`, () => {
    if (vector.reads === null) {
      assert.throws(() => readScan(vector.input), { name: "Error" });
      return;
    }
    const code = readScan(vector.input);
    assert.deepEqual(Object.fromEntries(FIELDS.map((f) => [f, code[f]])), vector.reads);
  });
  test(`verdict: ${vector.name}`, () => {
    assert.equal(check(keySet, vector.input).reason, vector.verdict);
  });
}

test("a genuine code names its issuer", () => {
  const genuine = table.vectors.find((v) => v.verdict === "genuine");
  assert.equal(check(keySet, genuine.input).issuer, "宁波冷链进口有限公司");
});
