from tests.sandbox_dev import dev_fixture  # noqa: F401 (the `dev` fixture: `hitl dev --no-demo` and an agent key)
