"""Item codes (一品一码): issuing a run for a batch, following a large run, and listing a batch's codes."""
