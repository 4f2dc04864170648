"""One module per resource; routes parse, call a service, return."""
