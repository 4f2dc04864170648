"""Trade-graph walks, recall lifecycle, notifications, investigations and exports (DESIGN.md §7)."""
