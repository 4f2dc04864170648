"""The network's front door: the landing page, the consumer's lookup box, and the API docs served from our own
assets."""
