import { expect } from "chai";

import {
  Flow,
  batchKey,
  chainHead,
  deployAnchorFixture,
  ethers,
  minedAt,
  networkHelpers,
  tag,
} from "./helpers/lotline.js";

const FROZEN_SHRIMP = batchKey("09501101020917", "LOT-2026-0001");
const RABIES_VACCINE = batchKey("06901234567892", "202611A03");

describe("LotlineAnchor batch registration", function () {
  it("derives a batch key from the GS1 element string of GTIN and lot, as the Python ledger does", async function () {
    // Same vector as eth_utils.keccak(b"0109501101020917" b"10LOT-2026-0001") on the Python side.
    expect(FROZEN_SHRIMP).to.equal("0x60eda5aef934dc46025302a6ae0f14d0b5ff287df768b76787032fc1db5c5d59");
  });

  it("registers a batch with its flow, registration hash, registrant and time", async function () {
    const { anchor, producer } = await networkHelpers.loadFixture(deployAnchorFixture);
    const docs = tag("customs declaration + quarantine certificate");

    const tx = anchor.connect(producer).registerBatch(FROZEN_SHRIMP, Flow.ColdChain, docs);
    await expect(tx).to.emit(anchor, "BatchRegistered").withArgs(FROZEN_SHRIMP, Flow.ColdChain, docs, producer.address);
    const { timestamp } = await minedAt(tx);

    const record = await anchor.batchRecord(FROZEN_SHRIMP);
    expect(record.registrant).to.equal(producer.address);
    expect(record.flow).to.equal(Flow.ColdChain);
    expect(record.registrationHash).to.equal(docs);
    expect(record.registeredAt).to.equal(timestamp);
    expect(record.updatedAt).to.equal(timestamp);
    expect(record.head).to.equal(ethers.ZeroHash);
    expect(record.eventCount).to.equal(0n);
  });

  it("reads an unknown batch as an all-zero record", async function () {
    const { anchor } = await networkHelpers.loadFixture(deployAnchorFixture);

    const record = await anchor.batchRecord(RABIES_VACCINE);
    expect(record.registrant).to.equal(ethers.ZeroAddress);
    expect(record.registeredAt).to.equal(0n);
    expect(record.eventCount).to.equal(0n);
    expect(record.openRecalls).to.equal(0n);
    expect(record.held).to.equal(false);
  });

  it("rejects a second registration of the same batch", async function () {
    const { anchor, role, regulator, producer, other } = await networkHelpers.loadFixture(deployAnchorFixture);
    await anchor.connect(producer).registerBatch(RABIES_VACCINE, Flow.Vaccine, tag("lot release"));
    await anchor.connect(regulator).grantRole(role.PRODUCER_ROLE, other.address);

    await expect(anchor.connect(other).registerBatch(RABIES_VACCINE, Flow.Vaccine, tag("forged lot release")))
      .to.be.revertedWithCustomError(anchor, "LotlineAnchorBatchAlreadyRegistered")
      .withArgs(RABIES_VACCINE, producer.address);
  });

  it("rejects a registration from an account without the producer role", async function () {
    const { anchor, role, anchorer } = await networkHelpers.loadFixture(deployAnchorFixture);

    await expect(anchor.connect(anchorer).registerBatch(RABIES_VACCINE, Flow.Vaccine, tag("lot release")))
      .to.be.revertedWithCustomError(anchor, "AccessControlUnauthorizedAccount")
      .withArgs(anchorer.address, role.PRODUCER_ROLE);
  });

  it("accepts a registration that lands after heads were anchored for the batch, keeping the heads", async function () {
    const { anchor, anchorer, producer } = await networkHelpers.loadFixture(deployAnchorFixture);
    const head = chainHead([tag("commission"), tag("ship")]);
    await anchor.connect(anchorer).anchor(tag("root"), 2, [FROZEN_SHRIMP], [head], [2]);

    await expect(anchor.connect(producer).registerBatch(FROZEN_SHRIMP, Flow.ColdChain, tag("docs")))
      .to.emit(anchor, "BatchRegistered")
      .withArgs(FROZEN_SHRIMP, Flow.ColdChain, tag("docs"), producer.address);

    const record = await anchor.batchRecord(FROZEN_SHRIMP);
    expect(record.registrant).to.equal(producer.address);
    expect(record.head).to.equal(head);
    expect(record.eventCount).to.equal(2n);
  });
});

describe("LotlineAnchor anchoring", function () {
  it("chains event digests into a head as the Python ledger does", async function () {
    // keccak(keccak(0^32 ++ d1) ++ d2) computed independently in Python.
    expect(chainHead([tag("commission"), tag("ship")])).to.equal(
      "0xf2a8d3531ef25f80d690dd5c55992645dc5298908e2ea26b8e477d5d184bd188",
    );
  });

  it("records the root with its block, time and event total, and the head of every batch", async function () {
    const { anchor, anchorer } = await networkHelpers.loadFixture(deployAnchorFixture);
    const shrimpHead = chainHead([tag("e1"), tag("e2"), tag("e3")]);
    const vaccineHead = chainHead([tag("e4")]);
    const root = tag("root-1");

    const tx = anchor
      .connect(anchorer)
      .anchor(root, 4, [FROZEN_SHRIMP, RABIES_VACCINE], [shrimpHead, vaccineHead], [3, 1]);
    await expect(tx).to.emit(anchor, "EventsAnchored").withArgs(root, 4, 2);
    await expect(tx).to.emit(anchor, "BatchHeadAnchored").withArgs(FROZEN_SHRIMP, shrimpHead, 3);
    await expect(tx).to.emit(anchor, "BatchHeadAnchored").withArgs(RABIES_VACCINE, vaccineHead, 1);
    const { timestamp, blockNumber } = await minedAt(tx);

    const rootRecord = await anchor.rootRecord(root);
    expect(rootRecord.blockNumber).to.equal(blockNumber);
    expect(rootRecord.timestamp).to.equal(timestamp);
    expect(rootRecord.eventTotal).to.equal(4n);
    const shrimp = await anchor.batchRecord(FROZEN_SHRIMP);
    expect(shrimp.head).to.equal(shrimpHead);
    expect(shrimp.eventCount).to.equal(3n);
    expect(shrimp.updatedAt).to.equal(timestamp);
    expect(shrimp.registrant).to.equal(ethers.ZeroAddress);
  });

  it("moves a batch head forward as later anchors extend its event hash chain", async function () {
    const { anchor, anchorer } = await networkHelpers.loadFixture(deployAnchorFixture);
    const digests = [tag("commission"), tag("ship"), tag("receive"), tag("sell")];
    await anchor.connect(anchorer).anchor(tag("root-1"), 2, [FROZEN_SHRIMP], [chainHead(digests.slice(0, 2))], [2]);

    await expect(anchor.connect(anchorer).anchor(tag("root-2"), 2, [FROZEN_SHRIMP], [chainHead(digests)], [4]))
      .to.emit(anchor, "BatchHeadAnchored")
      .withArgs(FROZEN_SHRIMP, chainHead(digests), 4);
    expect((await anchor.batchRecord(FROZEN_SHRIMP)).head).to.equal(chainHead(digests));
  });

  it("anchors a root that carries no batch heads", async function () {
    const { anchor, anchorer } = await networkHelpers.loadFixture(deployAnchorFixture);

    await expect(anchor.connect(anchorer).anchor(tag("sensor-readings"), 50, [], [], []))
      .to.emit(anchor, "EventsAnchored")
      .withArgs(tag("sensor-readings"), 50, 0);
  });

  it("reads an unknown root as an all-zero record", async function () {
    const { anchor } = await networkHelpers.loadFixture(deployAnchorFixture);

    const record = await anchor.rootRecord(tag("never anchored"));
    expect([record.blockNumber, record.timestamp, record.eventTotal]).to.deep.equal([0n, 0n, 0n]);
  });

  it("rejects a head update from an account without the anchorer role", async function () {
    const { anchor, role, regulator } = await networkHelpers.loadFixture(deployAnchorFixture);

    await expect(anchor.connect(regulator).anchor(tag("root"), 1, [FROZEN_SHRIMP], [tag("head")], [1]))
      .to.be.revertedWithCustomError(anchor, "AccessControlUnauthorizedAccount")
      .withArgs(regulator.address, role.ANCHORER_ROLE);
  });

  it("rejects a root that was already anchored, naming the block that holds it", async function () {
    const { anchor, anchorer } = await networkHelpers.loadFixture(deployAnchorFixture);
    const { blockNumber } = await minedAt(
      anchor.connect(anchorer).anchor(tag("root"), 1, [FROZEN_SHRIMP], [tag("h1")], [1]),
    );

    await expect(anchor.connect(anchorer).anchor(tag("root"), 1, [RABIES_VACCINE], [tag("h1")], [1]))
      .to.be.revertedWithCustomError(anchor, "LotlineAnchorRootAlreadyAnchored")
      .withArgs(tag("root"), blockNumber);
  });

  it("rejects the zero root", async function () {
    const { anchor, anchorer } = await networkHelpers.loadFixture(deployAnchorFixture);

    await expect(anchor.connect(anchorer).anchor(ethers.ZeroHash, 1, [FROZEN_SHRIMP], [tag("h1")], [1]))
      .to.be.revertedWithCustomError(anchor, "LotlineAnchorInvalidRoot")
      .withArgs();
  });

  it("rejects batch keys, heads and event counts of different lengths", async function () {
    const { anchor, anchorer } = await networkHelpers.loadFixture(deployAnchorFixture);

    await expect(anchor.connect(anchorer).anchor(tag("root"), 2, [FROZEN_SHRIMP, RABIES_VACCINE], [tag("h1")], [1, 1]))
      .to.be.revertedWithCustomError(anchor, "LotlineAnchorLengthMismatch")
      .withArgs(2, 1, 2);
    await expect(anchor.connect(anchorer).anchor(tag("root"), 2, [FROZEN_SHRIMP], [tag("h1")], [1, 1]))
      .to.be.revertedWithCustomError(anchor, "LotlineAnchorLengthMismatch")
      .withArgs(1, 1, 2);
  });

  it("rejects a head whose event count does not move past the stored one, and writes nothing", async function () {
    const { anchor, anchorer } = await networkHelpers.loadFixture(deployAnchorFixture);
    await anchor.connect(anchorer).anchor(tag("root-1"), 3, [FROZEN_SHRIMP], [tag("h3")], [3]);

    await expect(
      anchor
        .connect(anchorer)
        .anchor(tag("root-2"), 4, [RABIES_VACCINE, FROZEN_SHRIMP], [tag("v1"), tag("h3'")], [1, 3]),
    )
      .to.be.revertedWithCustomError(anchor, "LotlineAnchorStaleHead")
      .withArgs(FROZEN_SHRIMP, 3, 3);
    await expect(anchor.connect(anchorer).anchor(tag("root-2"), 2, [FROZEN_SHRIMP], [tag("h2")], [2]))
      .to.be.revertedWithCustomError(anchor, "LotlineAnchorStaleHead")
      .withArgs(FROZEN_SHRIMP, 3, 2);
    expect((await anchor.rootRecord(tag("root-2"))).blockNumber).to.equal(0n);
    expect((await anchor.batchRecord(RABIES_VACCINE)).eventCount).to.equal(0n);
    expect((await anchor.batchRecord(FROZEN_SHRIMP)).head).to.equal(tag("h3"));
  });

  it("rejects a first head with an event count of zero", async function () {
    const { anchor, anchorer } = await networkHelpers.loadFixture(deployAnchorFixture);

    await expect(anchor.connect(anchorer).anchor(tag("root"), 0, [FROZEN_SHRIMP], [ethers.ZeroHash], [0]))
      .to.be.revertedWithCustomError(anchor, "LotlineAnchorStaleHead")
      .withArgs(FROZEN_SHRIMP, 0, 0);
  });

  it("applies two heads of the same batch in one anchor when their counts rise", async function () {
    const { anchor, anchorer } = await networkHelpers.loadFixture(deployAnchorFixture);

    await anchor
      .connect(anchorer)
      .anchor(tag("root"), 3, [FROZEN_SHRIMP, FROZEN_SHRIMP], [tag("h1"), tag("h3")], [1, 3]);
    const record = await anchor.batchRecord(FROZEN_SHRIMP);
    expect([record.head, record.eventCount]).to.deep.equal([tag("h3"), 3n]);
  });
});
