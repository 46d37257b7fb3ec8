"""The gating engine: domain, policy, storage. No Slack, Redis, RQ or HTTP in here."""
