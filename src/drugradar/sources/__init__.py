"""One module per source. Each has a pure ``parse(paths)``; fetching (live) is kept apart."""
