"""Options of ``ssbflow run electrolyte-md`` (CLI flags, stored settings and resume).

Measured on 2 shared cores (OpenMM CPU platform, one thread, load 8-10): a box of 64
acetonitrile molecules (384 atoms) runs at about 310 ns/day with 4 fs steps, 150 molecules
(900 atoms) at about 140 ns/day.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from ssbflow.structures import limits
from ssbflow.studies.base import StudyOptions

FSI_SMILES = "FS(=O)(=O)[N-]S(=O)(=O)F"
TFSI_SMILES = "FC(F)(F)S(=O)(=O)[N-]S(=O)(=O)C(F)(F)F"
#: Salts ``--salt`` knows: name -> (cation SMILES, anion SMILES).
SALTS = {"LiFSI": ("[Li+]", FSI_SMILES), "LiTFSI": ("[Li+]", TFSI_SMILES)}


def _split(spec: str, what: str) -> tuple[str, int]:
    name, sep, count = spec.rpartition(":")
    if not sep or not name or not count.strip().isdigit() or int(count) < 1:
        raise ValueError(f"{what} {spec!r}: expected NAME:COUNT with COUNT >= 1")
    if int(count) > limits.MAX_BOX_MOLECULES:
        raise ValueError(f"{what} {spec!r}: at most {limits.MAX_BOX_MOLECULES} molecules")
    return name, int(count)


class ElectrolyteMdOptions(StudyOptions):
    """A box of molecules (and salt) at one temperature: minimise, compress, NPT, NVT."""

    components: tuple[str, ...] = Field(
        ("CC#N:150",), description="SMILES:COUNT of a solvent or polymer; repeat.",
        json_schema_extra={"cli": ["--component"]})
    salts: tuple[str, ...] = Field(
        (), description=f"SALT:COUNT ion pairs ({', '.join(SALTS)}); repeat.",
        json_schema_extra={"cli": ["--salt"]})
    temperature_K: float = Field(298.0, gt=0, le=2000, description="Temperature (K).",
                                 json_schema_extra={"cli": ["--temperature", "-T"]})
    production_ns: float = Field(0.2, gt=0, le=1000, description="NVT production (ns).",
                                 json_schema_extra={"cli": ["--ns"]})
    npt_ps: float = Field(100.0, ge=0, le=100_000,
                          description="NPT at T and 1 bar (ps); its second half gives the "
                          "density and the production volume.")
    compress_ps: float = Field(10.0, ge=0, le=10_000,
                               description="NPT compression of the loose box (ps).")
    anneal_K: float = Field(500.0, gt=0, le=2000, description="Anneal temperature (K).")
    anneal_ps: float = Field(0.0, ge=0, le=100_000, description="NPT anneal (ps; 0: none).")
    cool_ps: float = Field(0.0, ge=0, le=100_000,
                           description="NPT cooling from anneal_K to T (ps).")
    timestep_fs: float = Field(4.0, gt=0, le=5, description="Time step (fs; 4 with HMR).")
    frame_ps: float = Field(1.0, gt=0, description="Production frame interval (ps).")
    sites_ps: float = Field(5.0, gt=0, description="Interval (ps) of the saved Li, N, O, F "
                            "positions for the Li+ RDFs (boxes with Li+).")
    checkpoint_ps: float = Field(5.0, gt=0, description="Checkpoint interval (ps).")
    cutoff_nm: float = Field(1.0, gt=0.5, le=2.0, description="PME/LJ cutoff (nm).")
    ion_charge_scale: float = Field(0.8, gt=0, le=1, description="Charge scale of ions.")
    charge_method: str = Field("abcg2", description="antechamber charges: abcg2 or bcc.")
    pack_density_g_cm3: float = Field(0.5, gt=0, le=2.0,
                                      description="packmol density of the loose box.")
    seed: int = Field(1, description="Seed of packmol, velocities and thermostat.")
    platform: str | None = Field(None, description="OpenMM platform (default: CUDA > "
                                 "OpenCL > CPU, the first that works).")
    cache_dir: str | None = Field(None, description="Force-field cache folder (default "
                                  "$SSBFLOW_FF_CACHE or ~/.cache/ssbflow/gaff2).")

    @field_validator("components")
    @classmethod
    def _components(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("--component: give at least one SMILES:COUNT")
        from ssbflow.structures.smiles import parse_smiles

        for spec in value:
            name, _ = _split(spec, "--component")
            # checked here, not in the box job: a bad SMILES must not start a run
            parse_smiles(name, f"--component {spec!r}", max_atoms=2000)
        return value

    @field_validator("salts")
    @classmethod
    def _salts(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for spec in value:
            name, _ = _split(spec, "--salt")
            if name not in SALTS:
                raise ValueError(f"--salt {spec!r}: expected one of {', '.join(SALTS)}")
        return value

    @field_validator("charge_method")
    @classmethod
    def _charge_method(cls, value: str) -> str:
        if value not in ("abcg2", "bcc"):
            raise ValueError(f"--charge-method {value!r}: expected abcg2 or bcc")
        return value

    def box_components(self) -> list[tuple[str, int]]:
        """``(SMILES, count)`` of the box: components, then each salt's cation and anion; a
        molecule given more than once (same canonical SMILES, e.g. ``[Li+]`` of two salts)
        is one entry, at its first place and as first written, with the counts added."""
        from ssbflow.engines.openmm.parameters import canonical_smiles

        pairs = [_split(spec, "--component") for spec in self.components]
        for spec in self.salts:
            name, count = _split(spec, "--salt")
            cation, anion = SALTS[name]
            pairs += [(cation, count), (anion, count)]
        merged: dict[str, list] = {}
        for smiles, count in pairs:
            merged.setdefault(canonical_smiles(smiles), [smiles, 0])[1] += count
        return [(smiles, count) for smiles, count in merged.values()]
