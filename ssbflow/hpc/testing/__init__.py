"""Test stand-ins for the SLURM tests (nothing in ssbflow imports this package).

:mod:`ssbflow.hpc.testing.mockqueue`: jobflow-remote's queue database in one process
(mongomock-ng, from the ``test`` extra), because no MongoDB server runs on the test machines.
"""
