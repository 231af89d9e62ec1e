"""Structure builders: pure functions returning pymatgen ``Structure`` / ``Molecule``.

No I/O beyond reading the package's own reference CIFs, no engines. Every builder validates
its inputs and raises ``ValueError`` naming the offending parameter.
"""
