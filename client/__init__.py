"""The thin client to the central platform: typed calls, durable outbox, terminal identity."""
