"""bots room."""
