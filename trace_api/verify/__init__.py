"""Proof of one event, checked against the chain live: what a consumer's "anchored" badge links to."""
