"""``ssbflow run polymer-li-diffusion`` on tiny boxes with real CHGNet MD: both polymers at
every temperature, Ea for both, and an honest verdict on the (far too short) MSD."""

from __future__ import annotations

import json

import pytest

from ssbflow.cli import main


def test_polymer_li_diffusion_tiny_reports_both_polymers_and_says_not_diffusive(
    tmp_path, capsys
) -> None:
    out = tmp_path / "pld"
    args = ["run", "polymer-li-diffusion", "--out", str(out), "-T", "600", "-T", "1000",
            "--n-steps", "10", "--save-every", "2", "--n-chains", "1", "--n-units", "2",
            "--n-li", "1", "--pre-relax-steps", "5", "--json"]
    assert main(args) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [(r["system"], r["T_K"]) for r in doc["diffusion"]] == [
        ("pvdf", 600.0), ("pvdf", 1000.0), ("dpvdf", 600.0), ("dpvdf", 1000.0)]
    for row in doc["diffusion"]:
        assert row["md_ps"] == pytest.approx(0.010)
        assert row["msd_slope_A2_per_ps"] > 0 and row["D_cm2_s"] > 0
        assert row["D_cm2_s"] == pytest.approx(row["msd_slope_A2_per_ps"] / 6 * 1e-4)
        assert row["wall_s_per_step"] > 0
        # 10 fs of MD is ballistic (MSD ∝ t², log–log slope near 2), never diffusive
        assert not row["diffusive"] and row["loglog_slope"] > 1.3
        assert row["regime"] == "ballistic/superdiffusive"
    assert not doc["diffusive"] and len(doc["not_diffusive"]) == 4
    assert {r["system"] for r in doc["arrhenius"]} == {"pvdf", "dpvdf"}
    assert all(r["from_diffusive_msd"] is False for r in doc["arrhenius"])
    # dehydrofluorination removes one HF per monomer unit: 2 units x 2 atoms fewer
    cells = {r["system"]: r for r in doc["systems"]}
    assert cells["pvdf"]["n_atoms"] - cells["dpvdf"]["n_atoms"] == 4
    assert cells["pvdf"]["n_Li"] == cells["dpvdf"]["n_Li"] == 1
    report = (out / "report.md").read_text()
    assert "Not diffusive" in report and "0.20e-3" in report
    for name in ("msd_pvdf.png", "msd_dpvdf.png", "arrhenius.png", "systems.csv"):
        assert (out / name).is_file()

    # the text output states the verdict next to Ea
    args.remove("--json")
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "estimate only" in text and "not diffusive" in text
