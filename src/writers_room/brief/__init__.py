"""brief."""
