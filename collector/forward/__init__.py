"""Store-and-forward: target kinds (targets/), signing, retry policy and the outbox drain (runner)."""
