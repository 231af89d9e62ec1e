"""tests.studies."""
