"""What a phone sees when it scans a pack: the GS1 Digital Link resolver, as a page or as JSON."""
