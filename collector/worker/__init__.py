"""`collector worker`: forwarding, import jobs, the visits refresh and retention in one process."""
