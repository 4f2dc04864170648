"""Decoding codes from images, offline signature checks and the offline scan queue (DESIGN.md §3, §9)."""
