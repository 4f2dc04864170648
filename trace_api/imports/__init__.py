"""Bulk registration over HTTP: download a flow's template, upload the filled sheet."""
