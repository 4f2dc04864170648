"""Counterfeit and diversion alerts: API, page and the station's reports (docs/alerts.md)."""
