"""Who may do what: publishable keys, secret server keys, analyst tokens and the sites they may read."""
