"""Organisations: registering them (regulators), who am I, their locations, and the webhook each is told on."""
