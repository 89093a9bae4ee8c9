"""Provider packages the tests add to `orgquota.api.providers` (see test_provider_interface.py)."""
