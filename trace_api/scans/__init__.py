"""Trade scans: ship, receive, sell, administer, destroy, inspect, pack, unpack and transform, one or a list."""
