"""Alerts, budgets and notifications (SPEC §10): Alertmanager's webhook mailed to each organization's
addresses, and the org-admin routes for those addresses and a monthly budget."""
