"""RQ jobs and the Redis side of the system (connections, notifications)."""
