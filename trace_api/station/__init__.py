"""The scanning station: the mobile web app at ``/scan`` (camera, wedge scanner, offline queue), the issuers' key
set it checks codes against, and the decode endpoint for photos of labels (docs/station.md)."""
