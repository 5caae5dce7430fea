"""The offline classroom bundle installs with no index and runs (one end-to-end test).

Builds a bundle for this machine's platform with ``village-sim bundle`` (downloading wheels
from PyPI, which this test needs; pip's cache makes a second run faster), creates a fresh
virtual environment with this Python, installs from the bundle with ``--no-index``, and runs
``village-sim scenarios`` from that environment. It takes one to three minutes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from village_sim.bundle import current_platform


def test_bundle_installs_offline_and_runs(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    result = subprocess.run([sys.executable, "-m", "village_sim.cli", "bundle", str(bundle)],
                            capture_output=True, text=True, timeout=900, check=False)
    assert result.returncode == 0, result.stderr
    platform, arch = current_platform()
    manifest = json.loads((bundle / "bundle.json").read_text(encoding="utf-8"))
    assert (manifest["platform"], manifest["arch"]) == (platform, arch)
    wheels = sorted(p.name for p in (bundle / "wheels").glob("*.whl"))
    assert any(w.startswith("village_sim-") for w in wheels)
    assert any(w.startswith("solara_assets-") for w in wheels)  # the app's offline assets
    assert not list((bundle / "wheels").glob("*.tar.gz")), "source packages left unbuilt"
    install = (bundle / "INSTALL.txt").read_text(encoding="utf-8")
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert "python -m pip install --no-index --find-links wheels village-sim" in install
    assert f"Python {python}" in install and "离线安装包" in install and "ngoại tuyến" in install

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL")}
    installed = subprocess.run(
        [str(bindir / "python"), "-m", "pip", "install", "--quiet", "--no-compile",
         "--no-index", "--find-links", str(bundle / "wheels"), "village-sim"],
        capture_output=True, text=True, timeout=900, check=False, env=env)
    assert installed.returncode == 0, installed.stderr[-3000:]

    listed = subprocess.run([str(bindir / "village-sim"), "scenarios", "--lang", "zh"],
                            capture_output=True, text=True, timeout=300, check=False, env=env,
                            cwd=tmp_path, encoding="utf-8")
    assert listed.returncode == 0, listed.stderr
    assert "驻村工作队撤离之后" in listed.stdout and "team_leaves" in listed.stdout
    where = subprocess.run([str(bindir / "python"), "-c",
                            "import village_sim, solara_assets; print(village_sim.__file__)"],
                           capture_output=True, text=True, timeout=300, check=False, env=env,
                           cwd=tmp_path)
    assert where.returncode == 0, where.stderr
    assert str(venv) in where.stdout  # the installed copy, not the source tree
    # classroom mode from the offline install: its server, pages and font, a room, a replay
    classroom = subprocess.run(
        [str(bindir / "python"), "-c",
         "import pathlib, village_sim.classroom_server as s; "
         "print(sorted(p.name for p in pathlib.Path(str(s.PAGES)).iterdir()), "
         "pathlib.Path(str(s.FONT)).stat().st_size > 10**6, s.qr_svg('http://x/')[:5])"],
        capture_output=True, text=True, timeout=300, check=False, env=env, cwd=tmp_path)
    assert classroom.returncode == 0, classroom.stderr
    assert "participant.html" in classroom.stdout and "instructor.js" in classroom.stdout
    assert "True b'<?xml'" in classroom.stdout
    helped = subprocess.run([str(bindir / "village-sim"), "classroom", "--help"],
                            capture_output=True, text=True, timeout=300, check=False, env=env,
                            cwd=tmp_path)
    assert helped.returncode == 0 and "--host" in helped.stdout
