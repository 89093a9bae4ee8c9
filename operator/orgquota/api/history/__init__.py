"""Usage over time (SPEC §9): history, run-out forecast and plan advice, read from Prometheus."""
