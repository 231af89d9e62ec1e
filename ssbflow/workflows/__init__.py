"""jobflow Makers, job functions, engines and local running with resume."""
