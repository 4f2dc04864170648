"""The ledger core: everything every other lotline package builds on (docs/architecture.md)."""
