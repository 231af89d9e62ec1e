"""LLTO studies: reduction by Li metal (``ssbflow run llto-li``, :mod:`.reduction`)."""
