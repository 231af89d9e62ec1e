"""Pure numerical analysis of engine outputs and plots (no engines, no store)."""
