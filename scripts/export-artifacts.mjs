// Compiles the contracts with Hardhat and exports what the Python side loads to chain/artifacts/<Name>.json.
//
//   node scripts/export-artifacts.mjs          compile and (re)write chain/artifacts/
//   node scripts/export-artifacts.mjs --check  compile and exit 1 if the committed files differ
//
// Run it through npm (`npm run artifacts:export` / `npm run artifacts:check`) so that `node` is the Node 22 from
// the `node` devDependency: Hardhat 3 needs Node >= 22.13.
//
// Hardhat's own artifacts/ and cache/ are build output and stay out of git; chain/artifacts/ is committed so the
// Python package works without Node, and the check keeps it honest (as web3.py does for its test contracts).
import { createHash } from "node:crypto";
import { readFile, readdir, writeFile, mkdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

import hre from "hardhat";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const SOURCES_DIR = "contracts";
const OUTPUT_DIR = path.join(ROOT, "chain", "artifacts");
const EXPORTED_CONTRACTS = ["LotlineAnchor"];

/** The project's .sol files as POSIX paths relative to the repository root, sorted by code unit. */
async function listSources() {
  const entries = await readdir(path.join(ROOT, SOURCES_DIR), { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith(".sol"))
    .map((entry) => path.relative(ROOT, path.join(entry.parentPath, entry.name)).split(path.sep).join("/"))
    .sort();
}

/**
 * sha256 over each source as `path NUL content NUL`, in sorted path order: a Python test can recompute it
 * from the checkout alone to tell that the committed artifact is stale, without Node.
 */
async function hashSources(sourcePaths) {
  const hash = createHash("sha256");
  for (const sourcePath of sourcePaths) {
    hash.update(sourcePath);
    hash.update("\0");
    hash.update(await readFile(path.join(ROOT, sourcePath)));
    hash.update("\0");
  }
  return hash.digest("hex");
}

async function exportedArtifact(contractName, sourcePaths, sourceHash) {
  const artifact = await hre.artifacts.readArtifact(contractName);
  const buildInfoPath = await hre.artifacts.getBuildInfoPath(artifact.buildInfoId);
  const buildInfo = JSON.parse(await readFile(buildInfoPath, "utf8"));
  const { evmVersion, optimizer } = buildInfo.input.settings;
  return {
    contractName: artifact.contractName,
    abi: artifact.abi,
    bytecode: artifact.bytecode,
    deployedBytecode: artifact.deployedBytecode,
    sources: sourcePaths,
    sourceHash,
    compiler: { version: buildInfo.solcLongVersion, evmVersion, optimizer },
  };
}

/** Names the top-level fields that differ, so a failed check says whether the ABI, the code or only metadata moved. */
function differingFields(committed, fresh) {
  if (committed === null) return "missing";
  let old;
  try {
    old = JSON.parse(committed);
  } catch {
    return "not JSON";
  }
  const current = JSON.parse(fresh);
  const keys = [...new Set([...Object.keys(old), ...Object.keys(current)])];
  const differing = keys.filter((key) => JSON.stringify(old[key]) !== JSON.stringify(current[key]));
  return differing.length > 0 ? `differs in ${differing.join(", ")}` : "formatting differs";
}

function render(exported) {
  return `${JSON.stringify(exported, null, 2)}\n`;
}

async function main() {
  const check = process.argv.includes("--check");
  await hre.tasks.getTask("build").run({ quiet: true, noTests: true });
  const sourcePaths = await listSources();
  const sourceHash = await hashSources(sourcePaths);
  await mkdir(OUTPUT_DIR, { recursive: true });

  const stale = [];
  for (const contractName of EXPORTED_CONTRACTS) {
    const target = path.join(OUTPUT_DIR, `${contractName}.json`);
    const fresh = render(await exportedArtifact(contractName, sourcePaths, sourceHash));
    if (!check) {
      await writeFile(target, fresh);
      console.log(`wrote ${path.relative(ROOT, target)}`);
      continue;
    }
    const committed = await readFile(target, "utf8").catch(() => null);
    if (committed !== fresh) stale.push(`${path.relative(ROOT, target)} (${differingFields(committed, fresh)})`);
  }

  if (stale.length > 0) {
    console.error(`stale contract artifacts (run \`npm run artifacts:export\`): ${stale.join(", ")}`);
    process.exitCode = 1;
  } else if (check) {
    console.log(`contract artifacts match a fresh compile: ${EXPORTED_CONTRACTS.join(", ")}`);
  }
}

await main();
