"""Batches: registration (API and form), the list and one batch (API and pages), and their documents."""
