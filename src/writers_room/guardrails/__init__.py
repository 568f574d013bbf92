"""guardrails room."""
