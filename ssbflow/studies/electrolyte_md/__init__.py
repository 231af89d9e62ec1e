"""Classical MD of a liquid electrolyte box (OpenMM + GAFF2): density, D, conductivity."""
