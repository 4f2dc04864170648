import { expect } from "chai";

import { Flow, RecallStatus, batchKey, deployAnchorFixture, minedAt, networkHelpers, tag } from "./helpers/lotline.js";

const LETTUCE = batchKey("06923456789013", "F-20261101");
const SPINACH = batchKey("06923456789020", "F-20261102");
const CLASS_I = 1;

async function openLettuceRecall() {
  const fixture = await deployAnchorFixture();
  const { anchor, regulator, producer } = fixture;
  await anchor.connect(producer).registerBatch(LETTUCE, Flow.FarmProduce, tag("harvest record"));
  await anchor.connect(regulator).openRecall(tag("recall-1"), [LETTUCE, SPINACH], CLASS_I, tag("pesticide over limit"));
  return fixture;
}

describe("LotlineAnchor recalls", function () {
  it("opens a recall over its batches, counting it on each batch", async function () {
    const { anchor, regulator } = await networkHelpers.loadFixture(deployAnchorFixture);
    const reason = tag("pesticide over limit");

    const tx = anchor.connect(regulator).openRecall(tag("recall-1"), [LETTUCE, SPINACH], CLASS_I, reason);
    await expect(tx).to.emit(anchor, "RecallOpened").withArgs(tag("recall-1"), CLASS_I, reason, 2, regulator.address);
    await expect(tx).to.emit(anchor, "BatchRecalled").withArgs(LETTUCE, tag("recall-1"));
    await expect(tx).to.emit(anchor, "BatchRecalled").withArgs(SPINACH, tag("recall-1"));
    const { timestamp } = await minedAt(tx);

    const recall = await anchor.recallRecord(tag("recall-1"));
    expect(recall.status).to.equal(RecallStatus.Open);
    expect(recall.recallClass).to.equal(BigInt(CLASS_I));
    expect(recall.openedBy).to.equal(regulator.address);
    expect(recall.openedAt).to.equal(timestamp);
    expect(recall.openReasonHash).to.equal(reason);
    expect([...recall.batchKeys]).to.deep.equal([LETTUCE, SPINACH]);
    const lettuce = await anchor.batchRecord(LETTUCE);
    expect(lettuce.openRecalls).to.equal(1n);
    expect(lettuce.updatedAt).to.equal(timestamp);
  });

  it("counts every open recall that covers a batch", async function () {
    const { anchor, regulator } = await networkHelpers.loadFixture(openLettuceRecall);

    await anchor.connect(regulator).openRecall(tag("recall-2"), [LETTUCE], 3, tag("label error"));
    expect((await anchor.batchRecord(LETTUCE)).openRecalls).to.equal(2n);
    expect((await anchor.batchRecord(SPINACH)).openRecalls).to.equal(1n);
  });

  it("closes a recall, releasing its count on each batch", async function () {
    const { anchor, regulator } = await networkHelpers.loadFixture(openLettuceRecall);
    const report = tag("all units destroyed");

    const tx = anchor.connect(regulator).closeRecall(tag("recall-1"), report);
    await expect(tx).to.emit(anchor, "RecallClosed").withArgs(tag("recall-1"), report, regulator.address);
    const { timestamp } = await minedAt(tx);

    const recall = await anchor.recallRecord(tag("recall-1"));
    expect(recall.status).to.equal(RecallStatus.Closed);
    expect(recall.closedBy).to.equal(regulator.address);
    expect(recall.closedAt).to.equal(timestamp);
    expect(recall.closeReasonHash).to.equal(report);
    expect((await anchor.batchRecord(LETTUCE)).openRecalls).to.equal(0n);
    expect((await anchor.batchRecord(SPINACH)).openRecalls).to.equal(0n);
  });

  it("reads an unknown recall with status None", async function () {
    const { anchor } = await networkHelpers.loadFixture(deployAnchorFixture);

    const recall = await anchor.recallRecord(tag("never opened"));
    expect(recall.status).to.equal(RecallStatus.None);
    expect([...recall.batchKeys]).to.deep.equal([]);
  });

  it("rejects a recall opened by an account without the regulator role", async function () {
    const { anchor, role, producer } = await networkHelpers.loadFixture(deployAnchorFixture);

    await expect(anchor.connect(producer).openRecall(tag("recall-1"), [LETTUCE], CLASS_I, tag("reason")))
      .to.be.revertedWithCustomError(anchor, "AccessControlUnauthorizedAccount")
      .withArgs(producer.address, role.REGULATOR_ROLE);
  });

  it("rejects a recall closed by an account without the regulator role", async function () {
    const { anchor, role, anchorer } = await networkHelpers.loadFixture(openLettuceRecall);

    await expect(anchor.connect(anchorer).closeRecall(tag("recall-1"), tag("report")))
      .to.be.revertedWithCustomError(anchor, "AccessControlUnauthorizedAccount")
      .withArgs(anchorer.address, role.REGULATOR_ROLE);
  });

  it("rejects a recall id that was already used, open or closed", async function () {
    const { anchor, regulator } = await networkHelpers.loadFixture(openLettuceRecall);

    await expect(anchor.connect(regulator).openRecall(tag("recall-1"), [SPINACH], 2, tag("reason")))
      .to.be.revertedWithCustomError(anchor, "LotlineAnchorDuplicateRecall")
      .withArgs(tag("recall-1"));
    await anchor.connect(regulator).closeRecall(tag("recall-1"), tag("report"));
    await expect(anchor.connect(regulator).openRecall(tag("recall-1"), [SPINACH], 2, tag("reason")))
      .to.be.revertedWithCustomError(anchor, "LotlineAnchorDuplicateRecall")
      .withArgs(tag("recall-1"));
  });

  it("rejects a recall that covers no batch", async function () {
    const { anchor, regulator } = await networkHelpers.loadFixture(deployAnchorFixture);

    await expect(anchor.connect(regulator).openRecall(tag("recall-1"), [], CLASS_I, tag("reason")))
      .to.be.revertedWithCustomError(anchor, "LotlineAnchorEmptyRecall")
      .withArgs(tag("recall-1"));
  });

  it("rejects recall classes outside 1 to 3", async function () {
    const { anchor, regulator } = await networkHelpers.loadFixture(deployAnchorFixture);

    for (const recallClass of [0, 4, 255]) {
      await expect(anchor.connect(regulator).openRecall(tag("recall-1"), [LETTUCE], recallClass, tag("reason")))
        .to.be.revertedWithCustomError(anchor, "LotlineAnchorInvalidRecallClass")
        .withArgs(recallClass);
    }
  });

  it("rejects closing a recall that was never opened", async function () {
    const { anchor, regulator } = await networkHelpers.loadFixture(deployAnchorFixture);

    await expect(anchor.connect(regulator).closeRecall(tag("recall-9"), tag("report")))
      .to.be.revertedWithCustomError(anchor, "LotlineAnchorUnknownRecall")
      .withArgs(tag("recall-9"));
  });

  it("rejects closing a recall twice, naming when it was closed", async function () {
    const { anchor, regulator } = await networkHelpers.loadFixture(openLettuceRecall);
    const { timestamp } = await minedAt(anchor.connect(regulator).closeRecall(tag("recall-1"), tag("report")));

    await expect(anchor.connect(regulator).closeRecall(tag("recall-1"), tag("report again")))
      .to.be.revertedWithCustomError(anchor, "LotlineAnchorRecallAlreadyClosed")
      .withArgs(tag("recall-1"), timestamp);
    expect((await anchor.batchRecord(LETTUCE)).openRecalls).to.equal(0n);
  });
});

describe("LotlineAnchor holds", function () {
  it("puts a batch on hold and releases it", async function () {
    const { anchor, regulator } = await networkHelpers.loadFixture(deployAnchorFixture);

    const hold = anchor.connect(regulator).placeHold(LETTUCE, tag("excursion at -12 C"));
    await expect(hold).to.emit(anchor, "BatchHeld").withArgs(LETTUCE, tag("excursion at -12 C"), regulator.address);
    const held = await minedAt(hold);
    let record = await anchor.batchRecord(LETTUCE);
    expect(record.held).to.equal(true);
    expect(record.updatedAt).to.equal(held.timestamp);

    const release = anchor.connect(regulator).releaseHold(LETTUCE, tag("QA release"));
    await expect(release).to.emit(anchor, "BatchReleased").withArgs(LETTUCE, tag("QA release"), regulator.address);
    const released = await minedAt(release);
    record = await anchor.batchRecord(LETTUCE);
    expect(record.held).to.equal(false);
    expect(record.updatedAt).to.equal(released.timestamp);
  });

  it("rejects a hold placed by an account without the regulator role", async function () {
    const { anchor, role, producer } = await networkHelpers.loadFixture(deployAnchorFixture);

    await expect(anchor.connect(producer).placeHold(LETTUCE, tag("reason")))
      .to.be.revertedWithCustomError(anchor, "AccessControlUnauthorizedAccount")
      .withArgs(producer.address, role.REGULATOR_ROLE);
  });

  it("rejects a hold released by an account without the regulator role", async function () {
    const { anchor, role, regulator, producer } = await networkHelpers.loadFixture(deployAnchorFixture);
    await anchor.connect(regulator).placeHold(LETTUCE, tag("reason"));

    await expect(anchor.connect(producer).releaseHold(LETTUCE, tag("self release")))
      .to.be.revertedWithCustomError(anchor, "AccessControlUnauthorizedAccount")
      .withArgs(producer.address, role.REGULATOR_ROLE);
  });

  it("rejects a hold on a batch that is already held", async function () {
    const { anchor, regulator } = await networkHelpers.loadFixture(deployAnchorFixture);
    await anchor.connect(regulator).placeHold(LETTUCE, tag("excursion"));

    await expect(anchor.connect(regulator).placeHold(LETTUCE, tag("second excursion")))
      .to.be.revertedWithCustomError(anchor, "LotlineAnchorBatchAlreadyHeld")
      .withArgs(LETTUCE);
  });

  it("rejects releasing a batch that is not held", async function () {
    const { anchor, regulator } = await networkHelpers.loadFixture(deployAnchorFixture);

    await expect(anchor.connect(regulator).releaseHold(LETTUCE, tag("release")))
      .to.be.revertedWithCustomError(anchor, "LotlineAnchorBatchNotHeld")
      .withArgs(LETTUCE);
  });

  it("keeps a hold and an open recall independent of each other", async function () {
    const { anchor, regulator } = await networkHelpers.loadFixture(openLettuceRecall);
    await anchor.connect(regulator).placeHold(LETTUCE, tag("excursion"));
    await anchor.connect(regulator).closeRecall(tag("recall-1"), tag("report"));

    const record = await anchor.batchRecord(LETTUCE);
    expect(record.held).to.equal(true);
    expect(record.openRecalls).to.equal(0n);
  });
});
