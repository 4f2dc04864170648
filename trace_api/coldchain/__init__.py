"""Cold chain: temperature readings in (logger files, gateways' batches), excursions and what becomes of them, the
products' profiles; as the JSON API and as the holders' and regulators' pages. docs/cold-chain.md explains it."""
