"""`pip install .` into a clean venv gives a working `localoffer` with its data folders."""

from __future__ import annotations

import json
import subprocess
import sys
import venv

import pytest

from ..conftest import ROOT

pytestmark = pytest.mark.slow


def test_wheel_installs_and_runs(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)],
                   check=True, capture_output=True)
    wheel = next(dist.glob("localoffer-*.whl"))
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "--quiet", str(wheel)], check=True,
                   capture_output=True)
    cli = env_dir / "bin" / "localoffer"
    # the samples and the ontology must come from inside the installed package
    where = subprocess.run(
        [str(py), "-c", "from localoffer.resources import data_folder, data_files;"
         "print(data_folder('samples'));print(len(data_files('ontology', '.ttl')))"],
        check=True, capture_output=True, text=True, cwd=tmp_path).stdout.split()
    assert str(env_dir) in where[0]
    assert int(where[1]) >= 2
    sample = f"{where[0]}/north-lincolnshire-services-2024-12.json"
    store = tmp_path / "store"
    run = subprocess.run([str(cli), "--store", str(store), "ingest", sample, "--authority", "E06000013"],
                         capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    stats = subprocess.run([str(cli), "--store", str(store), "stats", "--format", "json"],
                           capture_output=True, text=True, cwd=tmp_path, check=True)
    data = json.loads(stats.stdout)
    assert data["authorities"][0]["services"] == 738
    assert any(g["graph"].endswith("/graph/def") and g["triples"] > 100 for g in data["graphs"])
