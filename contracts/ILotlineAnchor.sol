// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @dev Types, events and errors of {LotlineAnchor}, the on-chain anchor of lotline's off-chain ledger.
 *
 * A batch is identified by its key, `keccak256(utf8("01" ++ gtin14 ++ "10" ++ lot))`, computed off-chain from
 * the GS1 element string so that anyone holding a pack can derive it.
 */
interface ILotlineAnchor {
    /// @dev The supply chain a batch travels through; it decides which rules the off-chain ledger applies.
    enum Flow {
        ColdChain,
        FarmProduce,
        Vaccine
    }

    /// @dev `None` is the zero value, so an unknown recall reads as `None` rather than as a closed one.
    enum RecallStatus {
        None,
        Open,
        Closed
    }

    /**
     * @dev Everything the chain knows about one batch.
     *
     * `registrant` is zero until {LotlineAnchor-registerBatch} lands; heads, recalls and holds may arrive first
     * because the ledger anchors asynchronously. `head` is the head of the batch's event hash chain after
     * `eventCount` events (see {LotlineAnchor-anchor}).
     */
    struct BatchRecord {
        address registrant;
        Flow flow;
        uint64 registeredAt;
        bytes32 registrationHash;
        bytes32 head;
        uint64 eventCount;
        uint64 updatedAt;
        uint32 openRecalls;
        bool held;
    }

    /// @dev Where a Merkle root of events was anchored; all zero for a root that never was.
    struct RootRecord {
        uint64 blockNumber;
        uint64 timestamp;
        uint64 eventTotal;
    }

    /// @dev A recall of one or more batches, opened and closed by regulators.
    struct RecallRecord {
        RecallStatus status;
        uint8 recallClass;
        address openedBy;
        uint64 openedAt;
        address closedBy;
        uint64 closedAt;
        bytes32 openReasonHash;
        bytes32 closeReasonHash;
        bytes32[] batchKeys;
    }

    /**
     * @dev Emitted when `registrant` registers the batch `batchKey`; `registrationHash` commits to its documents.
     */
    event BatchRegistered(bytes32 indexed batchKey, Flow flow, bytes32 registrationHash, address indexed registrant);

    /**
     * @dev Emitted when the Merkle root of `eventTotal` events is anchored together with `batchCount` batch heads.
     */
    event EventsAnchored(bytes32 indexed merkleRoot, uint64 eventTotal, uint256 batchCount);

    /**
     * @dev Emitted when the head of the event hash chain of `batchKey` moves to `head` after `eventCount` events.
     */
    event BatchHeadAnchored(bytes32 indexed batchKey, bytes32 head, uint64 eventCount);

    /**
     * @dev Emitted when the regulator `by` opens the recall `recallId` of class `recallClass` over `batchCount`
     * batches, each of which also gets a {BatchRecalled} event.
     */
    event RecallOpened(
        bytes32 indexed recallId,
        uint8 recallClass,
        bytes32 reasonHash,
        uint256 batchCount,
        address indexed by
    );

    /**
     * @dev Emitted for every batch covered by the newly opened recall `recallId`.
     */
    event BatchRecalled(bytes32 indexed batchKey, bytes32 indexed recallId);

    /**
     * @dev Emitted when the regulator `by` closes the recall `recallId`.
     */
    event RecallClosed(bytes32 indexed recallId, bytes32 reasonHash, address indexed by);

    /**
     * @dev Emitted when the regulator `by` puts the batch `batchKey` on hold.
     */
    event BatchHeld(bytes32 indexed batchKey, bytes32 reasonHash, address indexed by);

    /**
     * @dev Emitted when the regulator `by` releases the hold on the batch `batchKey`.
     */
    event BatchReleased(bytes32 indexed batchKey, bytes32 reasonHash, address indexed by);

    /// @dev The regulator admin given to the constructor is the zero address, which would lock every role.
    error LotlineAnchorInvalidRegulatorAdmin(address regulatorAdmin);

    /// @dev The anchorer given to the constructor is the zero address.
    error LotlineAnchorInvalidAnchorer(address anchorer);

    /// @dev The batch `batchKey` was already registered by `registrant`.
    error LotlineAnchorBatchAlreadyRegistered(bytes32 batchKey, address registrant);

    /// @dev The zero Merkle root cannot be anchored: it is what {LotlineAnchor-rootRecord} reads for unknown roots.
    error LotlineAnchorInvalidRoot();

    /// @dev The Merkle root `merkleRoot` was already anchored in block `blockNumber`.
    error LotlineAnchorRootAlreadyAnchored(bytes32 merkleRoot, uint64 blockNumber);

    /// @dev The Merkle root `merkleRoot` was never anchored, so no proof against it can be trusted.
    error LotlineAnchorUnknownRoot(bytes32 merkleRoot);

    /// @dev The parallel arrays of an anchor have different lengths.
    error LotlineAnchorLengthMismatch(uint256 batchKeys, uint256 heads, uint256 eventCounts);

    /// @dev The head of `batchKey` would move from `storedCount` events to `newCount`, which is not further on.
    error LotlineAnchorStaleHead(bytes32 batchKey, uint64 storedCount, uint64 newCount);

    /// @dev A recall must cover at least one batch.
    error LotlineAnchorEmptyRecall(bytes32 recallId);

    /// @dev Recall classes follow the FDA scale: 1 (most serious) to 3.
    error LotlineAnchorInvalidRecallClass(uint8 recallClass);

    /// @dev The recall `recallId` already exists (open or closed); recall ids are never reused.
    error LotlineAnchorDuplicateRecall(bytes32 recallId);

    /// @dev The recall `recallId` was never opened.
    error LotlineAnchorUnknownRecall(bytes32 recallId);

    /// @dev The recall `recallId` was already closed at `closedAt`.
    error LotlineAnchorRecallAlreadyClosed(bytes32 recallId, uint64 closedAt);

    /// @dev The batch `batchKey` is already on hold.
    error LotlineAnchorBatchAlreadyHeld(bytes32 batchKey);

    /// @dev The batch `batchKey` is not on hold, so there is nothing to release.
    error LotlineAnchorBatchNotHeld(bytes32 batchKey);
}
