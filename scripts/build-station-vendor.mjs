// Bundles the station's browser libraries from node_modules into trace_api/station/static/vendor/, which the
// app serves itself (no CDN): @noble/curves + @noble/hashes (secp256k1 recovery, keccak-256) as one ES module,
// and zxing-wasm's reader (zxing-cpp compiled to WebAssembly) with its .wasm file. `make install` runs this;
// docs/station.md says why the output is built, not committed.
import { build } from "esbuild";
import { copyFile, mkdir, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "trace_api/station/static/vendor");
const require = createRequire(import.meta.url);

await mkdir(out, { recursive: true });
const common = { bundle: true, format: "esm", minify: true, legalComments: "inline", logLevel: "warning" };
await build({
  ...common,
  stdin: {
    contents:
      'export { secp256k1 } from "@noble/curves/secp256k1.js"; export { keccak_256 } from "@noble/hashes/sha3.js";',
    resolveDir: root,
  },
  outfile: join(out, "noble.js"),
});
await build({
  ...common,
  stdin: { contents: 'export * from "zxing-wasm/reader";', resolveDir: root },
  outfile: join(out, "zxing-reader.js"),
});
await copyFile(require.resolve("zxing-wasm/reader/zxing_reader.wasm"), join(out, "zxing_reader.wasm"));
await writeFile(join(out, ".built"), "");
