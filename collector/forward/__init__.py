"""Store-and-forward: targets, upstream bodies, signing, retry policy and the outbox drain."""
