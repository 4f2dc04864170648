"""Decoding codes from images, offline signature checks and the offline scan queue (docs/identifiers.md)."""
