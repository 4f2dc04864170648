import { expect } from "chai";

import { deployAnchorFixture, ethers, leafOf, merkleTree, networkHelpers, tag } from "./helpers/lotline.js";

function digests(count) {
  return Array.from({ length: count }, (_, index) => tag(`event-${index}`));
}

async function anchorTree(anchor, anchorer, eventDigests) {
  const tree = merkleTree(eventDigests);
  await anchor.connect(anchorer).anchor(tree.root, eventDigests.length, [], [], []);
  return tree;
}

describe("LotlineAnchor event inclusion proofs", function () {
  it("uses the double-hashed leaf, so a one-event tree's root is that leaf", async function () {
    const { anchor, anchorer } = await networkHelpers.loadFixture(deployAnchorFixture);
    const [digest] = digests(1);
    const tree = await anchorTree(anchor, anchorer, [digest]);

    // Vectors computed independently in Python: keccak(keccak(digest)), and the layered tree below.
    expect(tree.root).to.equal("0x4dea070d07ca7e4f05839ccf3c8580d5ffeb28c630279811a4010899266c1895");
    expect(await anchor.verifyEvent(digest, [], tree.root)).to.equal(true);
  });

  it("builds the same root as the Python ledger for a 5-event tree", async function () {
    expect(merkleTree(digests(5)).root).to.equal("0x1b95d3969bac6c6bd02e0d5c89c0dfa7ab35fc2868a67cc55174c916b83654c0");
  });

  for (const size of [2, 3, 5, 8, 13]) {
    it(`verifies every event of an anchored ${size}-event tree built off-chain`, async function () {
      const { anchor, anchorer } = await networkHelpers.loadFixture(deployAnchorFixture);
      const eventDigests = digests(size);
      const tree = await anchorTree(anchor, anchorer, eventDigests);

      for (const [index, digest] of eventDigests.entries()) {
        expect(await anchor.verifyEvent(digest, tree.proofs[index], tree.root), `event ${index}`).to.equal(true);
      }
    });
  }

  it("promotes the odd last node of a layer unchanged, so its proof is shorter", async function () {
    const tree = merkleTree(digests(5));

    expect(tree.proofs.map((proof) => proof.length)).to.deep.equal([3, 3, 3, 3, 1]);
  });

  it("refuses an event that is not in the tree", async function () {
    const { anchor, anchorer } = await networkHelpers.loadFixture(deployAnchorFixture);
    const tree = await anchorTree(anchor, anchorer, digests(8));

    expect(await anchor.verifyEvent(tag("forged event"), tree.proofs[0], tree.root)).to.equal(false);
  });

  it("refuses an event presented with another event's proof", async function () {
    const { anchor, anchorer } = await networkHelpers.loadFixture(deployAnchorFixture);
    const eventDigests = digests(8);
    const tree = await anchorTree(anchor, anchorer, eventDigests);

    expect(await anchor.verifyEvent(eventDigests[2], tree.proofs[5], tree.root)).to.equal(false);
  });

  it("refuses an inner node presented as an event", async function () {
    const { anchor, anchorer } = await networkHelpers.loadFixture(deployAnchorFixture);
    const eventDigests = digests(4);
    const tree = await anchorTree(anchor, anchorer, eventDigests);
    const [first, second] = [leafOf(eventDigests[0]), leafOf(eventDigests[1])];
    const innerNode = ethers.keccak256(
      ethers.concat(BigInt(first) < BigInt(second) ? [first, second] : [second, first]),
    );

    expect(await anchor.verifyEvent(innerNode, tree.proofs[0].slice(1), tree.root)).to.equal(false);
  });

  it("rejects a proof against a root that was never anchored", async function () {
    const { anchor } = await networkHelpers.loadFixture(deployAnchorFixture);
    const eventDigests = digests(4);
    const tree = merkleTree(eventDigests);

    await expect(anchor.verifyEvent(eventDigests[0], tree.proofs[0], tree.root))
      .to.be.revertedWithCustomError(anchor, "LotlineAnchorUnknownRoot")
      .withArgs(tree.root);
  });
});
