import { expect } from "chai";

import { deployAnchorFixture, ethers, networkHelpers, roles } from "./helpers/lotline.js";

describe("LotlineAnchor access control", function () {
  it("gives the regulator admin the admin and regulator roles and the anchorer its role", async function () {
    const [regulator, anchorer, other] = await ethers.getSigners();
    const anchor = await ethers.deployContract("LotlineAnchor", [regulator.address, anchorer.address]);
    const role = await roles(anchor);

    expect(await anchor.hasRole(role.DEFAULT_ADMIN_ROLE, regulator.address)).to.equal(true);
    expect(await anchor.hasRole(role.REGULATOR_ROLE, regulator.address)).to.equal(true);
    expect(await anchor.hasRole(role.ANCHORER_ROLE, anchorer.address)).to.equal(true);
    expect(await anchor.hasRole(role.ANCHORER_ROLE, regulator.address)).to.equal(false);
    expect(await anchor.hasRole(role.REGULATOR_ROLE, other.address)).to.equal(false);
  });

  it("makes the regulator role the admin of every participant role and of the anchorer role", async function () {
    const { anchor, role } = await networkHelpers.loadFixture(deployAnchorFixture);
    const governed = [
      "PRODUCER_ROLE",
      "DISTRIBUTOR_ROLE",
      "RETAILER_ROLE",
      "CARRIER_ROLE",
      "VACCINATOR_ROLE",
      "ANCHORER_ROLE",
    ];

    for (const name of governed) {
      expect(await anchor.getRoleAdmin(role[name]), name).to.equal(role.REGULATOR_ROLE);
    }
    expect(await anchor.getRoleAdmin(role.REGULATOR_ROLE)).to.equal(role.DEFAULT_ADMIN_ROLE);
  });

  it("names each role after the keccak256 of its name, as off-chain clients derive it", async function () {
    const { role } = await networkHelpers.loadFixture(deployAnchorFixture);

    for (const name of Object.keys(role).filter((key) => key !== "DEFAULT_ADMIN_ROLE")) {
      expect(role[name], name).to.equal(ethers.id(name));
    }
  });

  it("refuses a zero regulator admin at deployment", async function () {
    const [, anchorer] = await ethers.getSigners();
    const factory = await ethers.getContractFactory("LotlineAnchor");

    await expect(factory.deploy(ethers.ZeroAddress, anchorer.address))
      .to.be.revertedWithCustomError(factory, "LotlineAnchorInvalidRegulatorAdmin")
      .withArgs(ethers.ZeroAddress);
  });

  it("refuses a zero anchorer at deployment", async function () {
    const [regulator] = await ethers.getSigners();
    const factory = await ethers.getContractFactory("LotlineAnchor");

    await expect(factory.deploy(regulator.address, ethers.ZeroAddress))
      .to.be.revertedWithCustomError(factory, "LotlineAnchorInvalidAnchorer")
      .withArgs(ethers.ZeroAddress);
  });

  it("lets a regulator grant a participant role to a registered organisation's address", async function () {
    const { anchor, role, regulator, other } = await networkHelpers.loadFixture(deployAnchorFixture);

    await expect(anchor.connect(regulator).grantRole(role.VACCINATOR_ROLE, other.address))
      .to.emit(anchor, "RoleGranted")
      .withArgs(role.VACCINATOR_ROLE, other.address, regulator.address);
    expect(await anchor.hasRole(role.VACCINATOR_ROLE, other.address)).to.equal(true);
  });

  it("lets a second regulator, granted by the admin, grant participant roles too", async function () {
    const { anchor, role, regulator, producer, other } = await networkHelpers.loadFixture(deployAnchorFixture);
    await anchor.connect(regulator).grantRole(role.REGULATOR_ROLE, other.address);

    await expect(anchor.connect(other).grantRole(role.CARRIER_ROLE, producer.address))
      .to.emit(anchor, "RoleGranted")
      .withArgs(role.CARRIER_ROLE, producer.address, other.address);
  });

  it("rejects a role grant from an account without the regulator role", async function () {
    const { anchor, role, producer, other } = await networkHelpers.loadFixture(deployAnchorFixture);

    await expect(anchor.connect(producer).grantRole(role.DISTRIBUTOR_ROLE, other.address))
      .to.be.revertedWithCustomError(anchor, "AccessControlUnauthorizedAccount")
      .withArgs(producer.address, role.REGULATOR_ROLE);
  });

  it("lets a regulator revoke the role of an organisation that left the network", async function () {
    const { anchor, role, regulator, producer } = await networkHelpers.loadFixture(deployAnchorFixture);

    await expect(anchor.connect(regulator).revokeRole(role.PRODUCER_ROLE, producer.address))
      .to.emit(anchor, "RoleRevoked")
      .withArgs(role.PRODUCER_ROLE, producer.address, regulator.address);
    await expect(anchor.connect(producer).registerBatch(ethers.id("batch"), 0, ethers.id("docs")))
      .to.be.revertedWithCustomError(anchor, "AccessControlUnauthorizedAccount")
      .withArgs(producer.address, role.PRODUCER_ROLE);
  });

  it("rejects a grant of the regulator role from a regulator who is not the admin", async function () {
    const { anchor, role, regulator, producer, other } = await networkHelpers.loadFixture(deployAnchorFixture);
    await anchor.connect(regulator).grantRole(role.REGULATOR_ROLE, other.address);

    await expect(anchor.connect(other).grantRole(role.REGULATOR_ROLE, producer.address))
      .to.be.revertedWithCustomError(anchor, "AccessControlUnauthorizedAccount")
      .withArgs(other.address, role.DEFAULT_ADMIN_ROLE);
  });
});
