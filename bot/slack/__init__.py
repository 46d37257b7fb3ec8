"""The Slack review surface: Block Kit builders, listeners, user-group lookups."""
