"""Fixtures of the classical MD tests: a packed box of 30 acetonitrile molecules (GAFF2,
real AmberTools and packmol), built once per test module."""

from __future__ import annotations

import pytest

from ssbflow.methods import classical_md as cmd


@pytest.fixture(scope="module")
def ff_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def box(tmp_path_factory, ff_cache):
    import os

    folder = tmp_path_factory.mktemp("box")
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        return cmd.build_box_job.original([("CC#N", 30)], cache_dir=str(ff_cache))
    finally:
        os.chdir(cwd)
