"""CSV/XLSX and EPCIS 2.0 import, and the synthetic network generator (DESIGN.md §1, §4)."""
