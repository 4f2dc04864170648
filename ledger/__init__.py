"""The ledger core: everything every other lotline package builds on (DESIGN.md §2)."""
