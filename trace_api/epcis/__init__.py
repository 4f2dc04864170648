"""EPCIS 2.0 over GS1's REST binding: capture a document, query events, fetch one event by its id."""
