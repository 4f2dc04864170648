"""Recalls: opening (or requesting and approving) one, following it, acknowledging, closing and exporting it, and
the failed sampling inspections waiting to become one; as the JSON API and as the regulator's and holders' pages."""
