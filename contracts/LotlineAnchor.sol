// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {ILotlineAnchor} from "./ILotlineAnchor.sol";

/**
 * @dev Anchors lotline's off-chain ledger: batch registrations, the heads of each batch's event hash chain,
 * Merkle roots of anchored events, and the recalls and holds regulators place on batches.
 *
 * The ledger stays the source of truth; this contract makes its history impossible to rewrite quietly. One
 * {anchor} transaction carries the Merkle root of thousands of events plus the new heads of the batches they
 * touched, so the chain's transaction rate does not bound the scan rate.
 *
 * Regulators hold {REGULATOR_ROLE}, the admin role of every participant role, and grant those roles to an
 * organisation's address when they register the organisation.
 */
contract LotlineAnchor is AccessControl, ILotlineAnchor {
    bytes32 public constant REGULATOR_ROLE = keccak256("REGULATOR_ROLE");
    bytes32 public constant PRODUCER_ROLE = keccak256("PRODUCER_ROLE");
    bytes32 public constant DISTRIBUTOR_ROLE = keccak256("DISTRIBUTOR_ROLE");
    bytes32 public constant RETAILER_ROLE = keccak256("RETAILER_ROLE");
    bytes32 public constant CARRIER_ROLE = keccak256("CARRIER_ROLE");
    bytes32 public constant VACCINATOR_ROLE = keccak256("VACCINATOR_ROLE");
    bytes32 public constant ANCHORER_ROLE = keccak256("ANCHORER_ROLE");

    uint8 private constant _MIN_RECALL_CLASS = 1;
    uint8 private constant _MAX_RECALL_CLASS = 3;

    mapping(bytes32 batchKey => BatchRecord) private _batches;
    mapping(bytes32 merkleRoot => RootRecord) private _roots;
    mapping(bytes32 recallId => RecallRecord) private _recalls;

    /**
     * @dev Gives `regulatorAdmin` {DEFAULT_ADMIN_ROLE} and {REGULATOR_ROLE}, makes {REGULATOR_ROLE} the admin of
     * every participant role and of {ANCHORER_ROLE}, and gives `anchorer` {ANCHORER_ROLE}.
     *
     * Requirements:
     *
     * - `regulatorAdmin` and `anchorer` are not the zero address.
     */
    constructor(address regulatorAdmin, address anchorer) {
        if (regulatorAdmin == address(0)) revert LotlineAnchorInvalidRegulatorAdmin(regulatorAdmin);
        if (anchorer == address(0)) revert LotlineAnchorInvalidAnchorer(anchorer);

        _grantRole(DEFAULT_ADMIN_ROLE, regulatorAdmin);
        _grantRole(REGULATOR_ROLE, regulatorAdmin);
        _setRoleAdmin(PRODUCER_ROLE, REGULATOR_ROLE);
        _setRoleAdmin(DISTRIBUTOR_ROLE, REGULATOR_ROLE);
        _setRoleAdmin(RETAILER_ROLE, REGULATOR_ROLE);
        _setRoleAdmin(CARRIER_ROLE, REGULATOR_ROLE);
        _setRoleAdmin(VACCINATOR_ROLE, REGULATOR_ROLE);
        _setRoleAdmin(ANCHORER_ROLE, REGULATOR_ROLE);
        _grantRole(ANCHORER_ROLE, anchorer);
    }

    /**
     * @dev Registers the batch `batchKey` of `flow` with the caller as registrant; `registrationHash` commits
     * to the documents filed with it (customs declaration, certificates, lot release).
     *
     * Heads, recalls and holds may already exist for the batch: the ledger anchors asynchronously, so this
     * fills in the registration of a record that {anchor} created on demand.
     *
     * Requirements:
     *
     * - the caller must have {PRODUCER_ROLE}.
     * - the batch must not be registered yet.
     *
     * Emits a {BatchRegistered} event.
     */
    function registerBatch(bytes32 batchKey, Flow flow, bytes32 registrationHash) external onlyRole(PRODUCER_ROLE) {
        address registrant = _batches[batchKey].registrant;
        if (registrant != address(0)) revert LotlineAnchorBatchAlreadyRegistered(batchKey, registrant);
        _registerBatch(batchKey, flow, registrationHash, _msgSender());
    }

    /**
     * @dev Anchors the Merkle root `merkleRoot` of `eventTotal` events and moves the head of each batch in
     * `batchKeys` to `heads[i]` after `eventCounts[i]` events.
     *
     * A batch's head is the end of its event hash chain: `head_0 = 0` and
     * `head_n = keccak256(abi.encodePacked(head_{n-1}, eventDigest_n))`, where `eventDigest_n` is the digest of
     * the batch's n-th event in ledger order. The contract never sees the digests; it stores the head so that
     * anyone replaying the ledger's events for a batch can check that none was edited, dropped or reordered.
     *
     * Anchoring the same root twice reverts: a client retrying after an unknown outcome checks {rootRecord}
     * first. A batch's record is created here if it does not exist yet.
     *
     * Requirements:
     *
     * - the caller must have {ANCHORER_ROLE}.
     * - `merkleRoot` is not zero and was not anchored before.
     * - `batchKeys`, `heads` and `eventCounts` have the same length.
     * - each `eventCounts[i]` is greater than the batch's stored event count.
     *
     * Emits an {EventsAnchored} event, and a {BatchHeadAnchored} event per batch.
     */
    function anchor(
        bytes32 merkleRoot,
        uint64 eventTotal,
        bytes32[] calldata batchKeys,
        bytes32[] calldata heads,
        uint64[] calldata eventCounts
    ) external onlyRole(ANCHORER_ROLE) {
        if (merkleRoot == bytes32(0)) revert LotlineAnchorInvalidRoot();
        uint64 anchoredIn = _roots[merkleRoot].blockNumber;
        if (anchoredIn != 0) revert LotlineAnchorRootAlreadyAnchored(merkleRoot, anchoredIn);
        if (batchKeys.length != heads.length || batchKeys.length != eventCounts.length) {
            revert LotlineAnchorLengthMismatch(batchKeys.length, heads.length, eventCounts.length);
        }
        _anchorRoot(merkleRoot, eventTotal, batchKeys.length);
        for (uint256 i = 0; i < batchKeys.length; ++i) {
            uint64 storedCount = _batches[batchKeys[i]].eventCount;
            if (eventCounts[i] <= storedCount) {
                revert LotlineAnchorStaleHead(batchKeys[i], storedCount, eventCounts[i]);
            }
            _anchorHead(batchKeys[i], heads[i], eventCounts[i]);
        }
    }

    /**
     * @dev Opens the recall `recallId` of class `recallClass` over `batchKeys`; each batch counts one more open
     * recall until the recall is closed. `reasonHash` commits to the off-chain reason document.
     *
     * The batches need not be registered on chain yet: a recall must never fail because anchoring lags.
     *
     * Requirements:
     *
     * - the caller must have {REGULATOR_ROLE}.
     * - `recallId` was never used.
     * - `batchKeys` is not empty.
     * - `recallClass` is 1, 2 or 3.
     *
     * Emits a {RecallOpened} event, and a {BatchRecalled} event per batch.
     */
    function openRecall(
        bytes32 recallId,
        bytes32[] calldata batchKeys,
        uint8 recallClass,
        bytes32 reasonHash
    ) external onlyRole(REGULATOR_ROLE) {
        if (_recalls[recallId].status != RecallStatus.None) revert LotlineAnchorDuplicateRecall(recallId);
        if (batchKeys.length == 0) revert LotlineAnchorEmptyRecall(recallId);
        if (recallClass < _MIN_RECALL_CLASS || recallClass > _MAX_RECALL_CLASS) {
            revert LotlineAnchorInvalidRecallClass(recallClass);
        }
        _openRecall(recallId, batchKeys, recallClass, reasonHash, _msgSender());
    }

    /**
     * @dev Closes the open recall `recallId`; each of its batches counts one open recall less. `reasonHash`
     * commits to the off-chain closing report.
     *
     * Requirements:
     *
     * - the caller must have {REGULATOR_ROLE}.
     * - the recall is open.
     *
     * Emits a {RecallClosed} event.
     */
    function closeRecall(bytes32 recallId, bytes32 reasonHash) external onlyRole(REGULATOR_ROLE) {
        RecallRecord storage recall = _recalls[recallId];
        if (recall.status == RecallStatus.None) revert LotlineAnchorUnknownRecall(recallId);
        if (recall.status == RecallStatus.Closed) revert LotlineAnchorRecallAlreadyClosed(recallId, recall.closedAt);
        _closeRecall(recallId, reasonHash, _msgSender());
    }

    /**
     * @dev Puts the batch `batchKey` on hold (a temperature excursion or a failed inspection); `reasonHash`
     * commits to the off-chain reason.
     *
     * Requirements:
     *
     * - the caller must have {REGULATOR_ROLE}.
     * - the batch is not already on hold.
     *
     * Emits a {BatchHeld} event.
     */
    function placeHold(bytes32 batchKey, bytes32 reasonHash) external onlyRole(REGULATOR_ROLE) {
        if (_batches[batchKey].held) revert LotlineAnchorBatchAlreadyHeld(batchKey);
        _placeHold(batchKey, reasonHash, _msgSender());
    }

    /**
     * @dev Releases the hold on the batch `batchKey`; `reasonHash` commits to the off-chain release decision.
     *
     * Requirements:
     *
     * - the caller must have {REGULATOR_ROLE}.
     * - the batch is on hold.
     *
     * Emits a {BatchReleased} event.
     */
    function releaseHold(bytes32 batchKey, bytes32 reasonHash) external onlyRole(REGULATOR_ROLE) {
        if (!_batches[batchKey].held) revert LotlineAnchorBatchNotHeld(batchKey);
        _releaseHold(batchKey, reasonHash, _msgSender());
    }

    /**
     * @dev Returns the record of the batch `batchKey`, all zero if the chain has never heard of it.
     */
    function batchRecord(bytes32 batchKey) external view returns (BatchRecord memory) {
        return _batches[batchKey];
    }

    /**
     * @dev Returns where the Merkle root `merkleRoot` was anchored, all zero if it never was.
     */
    function rootRecord(bytes32 merkleRoot) external view returns (RootRecord memory) {
        return _roots[merkleRoot];
    }

    /**
     * @dev Returns the recall `recallId`, with status {RecallStatus-None} if it was never opened.
     */
    function recallRecord(bytes32 recallId) external view returns (RecallRecord memory) {
        return _recalls[recallId];
    }

    /**
     * @dev Returns whether the event with digest `eventDigest` is a leaf of the anchored Merkle root `merkleRoot`,
     * given its Merkle path `proof`.
     *
     * The leaf is `keccak256(bytes.concat(keccak256(abi.encode(eventDigest))))`: hashing twice keeps a leaf from
     * ever being read as an inner node (second pre-image attack). Inner nodes hash their children sorted, as
     * {MerkleProof} expects, so a proof carries no left/right flags.
     *
     * Requirements:
     *
     * - `merkleRoot` was anchored.
     */
    function verifyEvent(
        bytes32 eventDigest,
        bytes32[] calldata proof,
        bytes32 merkleRoot
    ) external view returns (bool) {
        if (_roots[merkleRoot].blockNumber == 0) revert LotlineAnchorUnknownRoot(merkleRoot);
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(eventDigest))));
        return MerkleProof.verifyCalldata(proof, merkleRoot, leaf);
    }

    function _registerBatch(bytes32 batchKey, Flow flow, bytes32 registrationHash, address registrant) internal {
        BatchRecord storage batch = _batches[batchKey];
        batch.registrant = registrant;
        batch.flow = flow;
        batch.registeredAt = uint64(block.timestamp);
        batch.registrationHash = registrationHash;
        batch.updatedAt = uint64(block.timestamp);
        emit BatchRegistered(batchKey, flow, registrationHash, registrant);
    }

    function _anchorRoot(bytes32 merkleRoot, uint64 eventTotal, uint256 batchCount) internal {
        _roots[merkleRoot] = RootRecord({
            blockNumber: uint64(block.number),
            timestamp: uint64(block.timestamp),
            eventTotal: eventTotal
        });
        emit EventsAnchored(merkleRoot, eventTotal, batchCount);
    }

    function _anchorHead(bytes32 batchKey, bytes32 head, uint64 eventCount) internal {
        BatchRecord storage batch = _batches[batchKey];
        batch.head = head;
        batch.eventCount = eventCount;
        batch.updatedAt = uint64(block.timestamp);
        emit BatchHeadAnchored(batchKey, head, eventCount);
    }

    function _openRecall(
        bytes32 recallId,
        bytes32[] calldata batchKeys,
        uint8 recallClass,
        bytes32 reasonHash,
        address by
    ) internal {
        RecallRecord storage recall = _recalls[recallId];
        recall.status = RecallStatus.Open;
        recall.recallClass = recallClass;
        recall.openedBy = by;
        recall.openedAt = uint64(block.timestamp);
        recall.openReasonHash = reasonHash;
        recall.batchKeys = batchKeys;
        for (uint256 i = 0; i < batchKeys.length; ++i) {
            BatchRecord storage batch = _batches[batchKeys[i]];
            batch.openRecalls += 1;
            batch.updatedAt = uint64(block.timestamp);
        }
        emit RecallOpened(recallId, recallClass, reasonHash, batchKeys.length, by);
        for (uint256 i = 0; i < batchKeys.length; ++i) {
            emit BatchRecalled(batchKeys[i], recallId);
        }
    }

    function _closeRecall(bytes32 recallId, bytes32 reasonHash, address by) internal {
        RecallRecord storage recall = _recalls[recallId];
        recall.status = RecallStatus.Closed;
        recall.closedBy = by;
        recall.closedAt = uint64(block.timestamp);
        recall.closeReasonHash = reasonHash;
        bytes32[] storage batchKeys = recall.batchKeys;
        for (uint256 i = 0; i < batchKeys.length; ++i) {
            BatchRecord storage batch = _batches[batchKeys[i]];
            batch.openRecalls -= 1;
            batch.updatedAt = uint64(block.timestamp);
        }
        emit RecallClosed(recallId, reasonHash, by);
    }

    function _placeHold(bytes32 batchKey, bytes32 reasonHash, address by) internal {
        BatchRecord storage batch = _batches[batchKey];
        batch.held = true;
        batch.updatedAt = uint64(block.timestamp);
        emit BatchHeld(batchKey, reasonHash, by);
    }

    function _releaseHold(bytes32 batchKey, bytes32 reasonHash, address by) internal {
        BatchRecord storage batch = _batches[batchKey];
        batch.held = false;
        batch.updatedAt = uint64(block.timestamp);
        emit BatchReleased(batchKey, reasonHash, by);
    }
}
