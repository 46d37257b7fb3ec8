"""Adapters facing people and agents: the web process (intake, later Slack) and the CLI."""
