"""tests.methods."""
