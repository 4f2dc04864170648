// Shared fixture and off-chain constructions (batch keys, event hash chains, Merkle trees) for the tests.
//
// The constructions mirror what lotline's ledger computes in Python, so the tests pin the contract to them.
import { network } from "hardhat";

export const connection = await network.create();
export const { ethers, networkHelpers } = connection;

export const Flow = { ColdChain: 0n, FarmProduce: 1n, Vaccine: 2n };
export const RecallStatus = { None: 0n, Open: 1n, Closed: 2n };

/** keccak256(utf8("01" + gtin14 + "10" + lot)): the GS1 element string of the batch, hashed. */
export function batchKey(gtin14, lot) {
  return ethers.keccak256(ethers.toUtf8Bytes(`01${gtin14}10${lot}`));
}

/** A distinct, deterministic bytes32 per label, for reason hashes, digests and ids. */
export function tag(label) {
  return ethers.id(label);
}

/** head_n = keccak256(head_{n-1} ++ eventDigest_n), head_0 = 0. */
export function chainHead(eventDigests) {
  return eventDigests.reduce(
    (head, digest) => ethers.solidityPackedKeccak256(["bytes32", "bytes32"], [head, digest]),
    ethers.ZeroHash,
  );
}

/** The double-hashed leaf of an event digest: keccak256(bytes.concat(keccak256(abi.encode(digest)))). */
export function leafOf(eventDigest) {
  const encoded = ethers.AbiCoder.defaultAbiCoder().encode(["bytes32"], [eventDigest]);
  return ethers.keccak256(ethers.keccak256(encoded));
}

function hashPair(a, b) {
  const [low, high] = BigInt(a) < BigInt(b) ? [a, b] : [b, a];
  return ethers.keccak256(ethers.concat([low, high]));
}

/**
 * A Merkle tree built layer by layer: pairs hash sorted, and the odd last node of a layer is promoted unchanged
 * to the next one. Returns the root and a proof (bottom-up sibling list) per leaf.
 */
export function merkleTree(eventDigests) {
  let layer = eventDigests.map(leafOf);
  const positions = layer.map((_, index) => index);
  const proofs = layer.map(() => []);
  while (layer.length > 1) {
    const next = [];
    for (let i = 0; i < layer.length; i += 2) {
      next.push(i + 1 < layer.length ? hashPair(layer[i], layer[i + 1]) : layer[i]);
    }
    positions.forEach((position, leaf) => {
      const sibling = position ^ 1;
      if (sibling < layer.length) proofs[leaf].push(layer[sibling]);
      positions[leaf] = position >> 1;
    });
    layer = next;
  }
  return { root: layer[0], proofs };
}

export async function roles(anchor) {
  return {
    DEFAULT_ADMIN_ROLE: await anchor.DEFAULT_ADMIN_ROLE(),
    REGULATOR_ROLE: await anchor.REGULATOR_ROLE(),
    PRODUCER_ROLE: await anchor.PRODUCER_ROLE(),
    DISTRIBUTOR_ROLE: await anchor.DISTRIBUTOR_ROLE(),
    RETAILER_ROLE: await anchor.RETAILER_ROLE(),
    CARRIER_ROLE: await anchor.CARRIER_ROLE(),
    VACCINATOR_ROLE: await anchor.VACCINATOR_ROLE(),
    ANCHORER_ROLE: await anchor.ANCHORER_ROLE(),
  };
}

/** A deployed anchor whose regulator has registered one producer, as after onboarding an importer. */
export async function deployAnchorFixture() {
  const [regulator, anchorer, producer, other] = await ethers.getSigners();
  const anchor = await ethers.deployContract("LotlineAnchor", [regulator.address, anchorer.address]);
  const role = await roles(anchor);
  await anchor.connect(regulator).grantRole(role.PRODUCER_ROLE, producer.address);
  return { anchor, role, regulator, anchorer, producer, other };
}

/** Returns the timestamp of the block that mined `txPromise`. */
export async function minedAt(txPromise) {
  const receipt = await (await txPromise).wait();
  const block = await ethers.provider.getBlock(receipt.blockNumber);
  return { receipt, timestamp: BigInt(block.timestamp), blockNumber: BigInt(receipt.blockNumber) };
}
