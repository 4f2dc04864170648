"""Request and response models of the JSON API. Requests forbid unknown fields: a typo is an error, not ignored."""
