// Prints what anchoring costs, so the anchoring worker can size its transactions. Gas is deterministic, so the
// budgets asserted here catch a storage-layout regression without depending on the machine's speed.
import { expect } from "chai";

import { deployAnchorFixture, ethers, networkHelpers, tag } from "./helpers/lotline.js";

const BLOCK_GAS_LIMIT = 30_000_000n;

function batchHeads(count, round) {
  const batchKeys = Array.from({ length: count }, (_, index) => tag(`batch-${index}`));
  const heads = batchKeys.map((key) => tag(`${key}-head-${round}`));
  const eventCounts = batchKeys.map(() => round);
  return { batchKeys, heads, eventCounts };
}

async function anchorGas(anchor, anchorer, count, round) {
  const { batchKeys, heads, eventCounts } = batchHeads(count, round);
  const tx = await anchor.connect(anchorer).anchor(tag(`root-${count}-${round}`), count, batchKeys, heads, eventCounts);
  const receipt = await tx.wait();
  expect((await anchor.batchRecord(batchKeys[count - 1])).eventCount).to.equal(BigInt(round));
  return receipt.gasUsed;
}

describe("LotlineAnchor gas", function () {
  it("prints the deployment gas of LotlineAnchor", async function () {
    const [regulator, anchorer] = await ethers.getSigners();
    const anchor = await ethers.deployContract("LotlineAnchor", [regulator.address, anchorer.address]);
    const receipt = await anchor.deploymentTransaction().wait();

    console.log(`      deployment: ${receipt.gasUsed} gas`);
    expect(receipt.gasUsed).to.be.lessThan(BLOCK_GAS_LIMIT);
  });

  it("prints the gas of anchoring 1, 100 and 1,000 batch heads, new and moved forward", async function () {
    const figures = [];
    for (const count of [1, 100, 1000]) {
      const { anchor, anchorer } = await networkHelpers.loadFixture(deployAnchorFixture);
      const first = await anchorGas(anchor, anchorer, count, 1);
      const next = await anchorGas(anchor, anchorer, count, 2);
      figures.push({ count, first, next });
      console.log(`      anchor with ${count} heads: ${first} gas for new batches, ${next} gas moving existing heads`);
    }
    const [one, , thousand] = figures;
    const perNewHead = (thousand.first - one.first) / 999n;
    const perMovedHead = (thousand.next - one.next) / 999n;
    console.log(`      per batch head: ${perNewHead} gas new, ${perMovedHead} gas moved forward`);
    console.log(
      `      heads per 30M-gas block: ${(BLOCK_GAS_LIMIT - one.first) / perNewHead + 1n} new, ${(BLOCK_GAS_LIMIT - one.next) / perMovedHead + 1n} moved`,
    );

    expect(perNewHead).to.be.lessThan(50_000n);
    expect(perMovedHead).to.be.lessThan(15_000n);
  });
});
