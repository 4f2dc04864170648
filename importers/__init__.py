"""CSV/XLSX and EPCIS 2.0 import, and the synthetic network generator (docs/flows.md, docs/events.md)."""
