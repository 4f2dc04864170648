"""Trade-graph walks, recall lifecycle, notifications, investigations and exports (docs/recall.md)."""
