"""Set Alert: users, subscriptions, matching events to them, digests and their channels."""
