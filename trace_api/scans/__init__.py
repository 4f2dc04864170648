"""Trade scans: ship, receive, sell, administer, destroy, inspect, pack, unpack and transform, one or a list, or a
queue of scans made offline answered line by line."""
