"""An offline classroom bundle: everything to install and run village-sim without internet.

``village-sim bundle DIR --platform linux|windows|macos [--arch ...] [--python 3.12]`` writes::

    DIR/
      wheels/            every wheel the package needs on that platform, and its own wheel
      requirements.txt   the exact versions (from uv.lock)
      INSTALL.txt        what Python is needed and the one-line install, in zh, vi and en
      install.sh         (linux, macos) create a venv and install from wheels/
      install.bat        (windows) the same
      bundle.json        platform tags, Python version and wheel list, for the record

The versions come from the project's lock (``uv export --frozen --no-dev``), so the bundle
holds exactly what the tests ran with. Environment markers (``; sys_platform == 'win32'``)
are evaluated here for the *target* platform — pip evaluates them for the machine it runs on,
which would leave out, say, ``colorama`` from a Windows bundle built on Linux — and the pinned
list is downloaded with ``pip download --no-deps --only-binary=:all: --platform …
--python-version … --implementation cp --abi cp3XX``, in parallel. Packages published only as
source (``solara-assets``, which carries the app's offline JavaScript and CSS) are built into
wheels once; a bundle refuses a source package that would not build a pure-Python wheel.
The project's own wheel is built with ``uv build --wheel`` (or ``pip wheel`` without uv).

This needs a source checkout (``pyproject.toml`` and ``uv.lock``) and internet access to
PyPI; the classroom laptop then needs neither.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from village_sim.refusal import Refusal

__all__ = [
    "ARCHES",
    "PLATFORMS",
    "BundleError",
    "Target",
    "build_bundle",
    "check_target",
    "current_platform",
    "locked_requirements",
    "platform_tags",
]

PLATFORMS = ("linux", "windows", "macos")
ARCHES = {"linux": ("x86_64", "aarch64"), "windows": ("amd64", "arm64"),
          "macos": ("arm64", "x86_64")}
MANYLINUX_MAX = 28  # glibc 2.28: Debian 10, Ubuntu 18.10, RHEL 8 and later
MACOS_MIN = {"arm64": "12_0", "x86_64": "10_13"}
DOWNLOAD_JOBS = 4


class BundleError(Refusal, RuntimeError):
    """The bundle cannot be built; the message says why and what to do.

    A bad ``--platform``, ``--arch`` or ``--python`` is a refusal of the catalogs (said in the
    language of ``$VILLAGE_SIM_LANG``); what uv and pip report stays in their words.
    """


@dataclass(frozen=True)
class Target:
    """The classroom laptop: operating system, processor and Python version."""

    platform: str
    arch: str
    python: str

    @property
    def abi(self) -> str:
        """CPython ABI tag, e.g. ``cp312``."""
        return "cp" + self.python.replace(".", "")

    def environment(self) -> dict[str, str]:
        """Values of PEP 508 environment markers on the target."""
        machine = {"amd64": "AMD64"}.get(self.arch, self.arch)
        return {
            "implementation_name": "cpython",
            "implementation_version": f"{self.python}.0",
            "os_name": "nt" if self.platform == "windows" else "posix",
            "platform_machine": machine,
            "platform_python_implementation": "CPython",
            "platform_release": "",
            "platform_system": {"linux": "Linux", "windows": "Windows",
                                "macos": "Darwin"}[self.platform],
            "platform_version": "",
            "python_full_version": f"{self.python}.0",
            "python_version": self.python,
            "sys_platform": {"linux": "linux", "windows": "win32",
                             "macos": "darwin"}[self.platform],
            "extra": "",
        }


def current_platform() -> tuple[str, str]:
    """This machine's platform and processor, in the names :func:`build_bundle` takes."""
    import platform

    machine = platform.machine().lower()
    if sys.platform.startswith("win"):
        return "windows", "arm64" if "arm" in machine else "amd64"
    if sys.platform == "darwin":
        return "macos", "arm64" if machine in ("arm64", "aarch64") else "x86_64"
    return "linux", "aarch64" if machine in ("arm64", "aarch64") else "x86_64"


def platform_tags(target: Target) -> list[str]:
    """The ``--platform`` values to give pip for the target, most specific first."""
    if target.platform == "linux":
        tags = [f"manylinux_2_{v}_{target.arch}" for v in range(MANYLINUX_MAX, 16, -1)]
        return [*tags, f"manylinux2014_{target.arch}", f"manylinux2010_{target.arch}",
                f"manylinux1_{target.arch}"]
    if target.platform == "windows":
        return [f"win_{target.arch}"]
    return [f"macosx_{MACOS_MIN[target.arch]}_{target.arch}"]  # pip adds older and universal2


# ---------------------------------------------------------------------------- requirements
def project_root() -> Path:
    """The source checkout holding this package (``pyproject.toml`` and ``uv.lock``).

    Raises:
        BundleError: when the package was installed from a wheel (no lock to read).
    """
    here = Path(__file__).resolve()
    for parent in here.parents:
        pyproject = parent / "pyproject.toml"
        if pyproject.is_file():
            name = tomllib.loads(pyproject.read_text(encoding="utf-8")).get(
                "project", {}).get("name")
            if name == "village-sim" and (parent / "uv.lock").is_file():
                return parent
    raise BundleError("bundle: needs a source checkout of village-sim with uv.lock (run it "
                      "from the repository with 'uv run village-sim bundle DIR')")


def _uv() -> str:
    uv = shutil.which("uv")
    if uv is None:
        raise BundleError("bundle: needs uv on PATH to read the lock (pip install uv)")
    return uv


def locked_requirements(root: Path, target: Target) -> list[tuple[str, str]]:
    """``(name, version)`` of every locked runtime dependency installed on the target.

    Reads ``uv export --frozen --no-dev --no-emit-project`` and evaluates each marker for the
    target platform.
    """
    from packaging.requirements import Requirement

    result = subprocess.run(
        [_uv(), "export", "--frozen", "--no-dev", "--no-hashes", "--no-emit-project",
         "--no-header", "--no-annotate"],
        cwd=root, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BundleError(f"bundle: 'uv export' failed: {result.stderr.strip()}")
    env = target.environment()
    pins: list[tuple[str, str]] = []
    for line in result.stdout.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "-")):
            continue
        req = Requirement(line)
        if req.marker is not None and not req.marker.evaluate(env):
            continue
        versions = [s.version for s in req.specifier if s.operator == "=="]
        if len(versions) != 1:
            raise BundleError(f"bundle: {line!r} in the lock is not pinned to one version")
        pins.append((req.name, versions[0]))
    return pins


def _source_only(root: Path) -> set[str]:
    """Locked packages published without any wheel (only an sdist)."""
    lock = tomllib.loads((root / "uv.lock").read_text(encoding="utf-8"))
    return {p["name"] for p in lock.get("package", [])
            if "sdist" in p and not p.get("wheels")}


# ---------------------------------------------------------------------------- pip
def pip_command() -> list[str]:
    """A pip to download and build with: this Python's, its base Python's, or uv's.

    Raises:
        BundleError: when no pip can be found.
    """
    candidates = [sys.executable, getattr(sys, "_base_executable", sys.executable)]
    for python in dict.fromkeys(candidates):
        probe = subprocess.run([python, "-m", "pip", "--version"], capture_output=True,
                               check=False)
        if probe.returncode == 0:
            return [python, "-m", "pip"]
    if shutil.which("uv"):
        return [_uv(), "tool", "run", "--from", "pip", "pip"]
    raise BundleError("bundle: no pip found (install pip, or uv)")


def _run(command: Sequence[str], what: str) -> None:
    result = subprocess.run(list(command), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines()
        errors = [line for line in lines if line.startswith("ERROR:")]  # pip's own summary
        reason = (errors or lines[-1:] or ["no output"])[-1].removeprefix("ERROR:").strip()
        raise BundleError(f"bundle: {what} failed: {reason[:300]}")


def _download(pip: list[str], pins: Sequence[tuple[str, str]], target: Target, dest: Path,
              jobs: int) -> None:
    tags = platform_tags(target)
    base = [*pip, "download", "--quiet", "--no-deps", "--only-binary=:all:", "--dest",
            str(dest), "--python-version", target.python, "--implementation", "cp",
            "--abi", target.abi, "--abi", "abi3", "--abi", "none"]
    for tag in tags:
        base += ["--platform", tag]
    chunks = [list(pins[k::jobs]) for k in range(jobs) if pins[k::jobs]]

    def fetch(chunk: list[tuple[str, str]]) -> None:
        _run([*base, *[f"{name}=={version}" for name, version in chunk]],
             "downloading wheels for " + ", ".join(name for name, _ in chunk))

    with ThreadPoolExecutor(max_workers=max(1, len(chunks))) as pool:
        for future in [pool.submit(fetch, chunk) for chunk in chunks]:
            future.result()


def _build_source_only(pip: list[str], pins: Sequence[tuple[str, str]], dest: Path) -> None:
    for name, version in pins:
        before = set(dest.glob("*.whl"))
        _run([*pip, "wheel", "--quiet", "--no-deps", "--wheel-dir", str(dest),
              f"{name}=={version}"], f"building a wheel of {name} {version} from source")
        for wheel in set(dest.glob("*.whl")) - before:
            if not wheel.name.endswith("-none-any.whl"):
                wheel.unlink()
                raise BundleError(f"bundle: {name} {version} is published only as source and "
                                  "builds a platform-specific wheel; it cannot be bundled for "
                                  "another platform")


def _build_project(root: Path, dest: Path, pip: list[str]) -> Path:
    before = set(dest.glob("village_sim-*.whl"))
    if shutil.which("uv"):
        _run([_uv(), "build", "--wheel", "--quiet", "--out-dir", str(dest), str(root)],
             "building the village-sim wheel")
    else:
        _run([*pip, "wheel", "--quiet", "--no-deps", "--wheel-dir", str(dest), str(root)],
             "building the village-sim wheel")
    built = sorted(set(dest.glob("village_sim-*.whl")) - before) or sorted(before)
    if not built:
        raise BundleError("bundle: building the village-sim wheel produced no file")
    return built[-1]


# ---------------------------------------------------------------------------- texts
def _app_command() -> str:
    """How to start the live app, as this version of the package offers it."""
    import importlib.util

    if importlib.util.find_spec("village_sim.viz.server") is not None:
        return "village-sim viz"
    if importlib.util.find_spec("village_sim.app") is not None:
        return "solara run village_sim.app"
    return "village-sim --help"


def install_text(target: Target, version: str, n_wheels: int) -> str:
    """Text of INSTALL.txt: the Python needed and the one-line install, in zh, vi and en."""
    from village_sim.i18n import LANGUAGES, t

    windows = target.platform == "windows"
    python = f"py -{target.python}" if windows else f"python{target.python}"
    activate = r"venv\Scripts\activate" if windows else ". venv/bin/activate"
    script = "install.bat" if windows else "sh install.sh"
    sections = []
    for lang in LANGUAGES:
        sections.append("\n".join([
            t("bundle.title", lang, version=version, platform=target.platform,
              arch=target.arch, python=target.python),
            "",
            t("bundle.python", lang, python=target.python),
            "",
            t("bundle.one_line", lang),
            "    python -m pip install --no-index --find-links wheels village-sim",
            "",
            t("bundle.steps", lang),
            f"    {python} -m venv venv",
            f"    {activate}",
            "    python -m pip install --no-index --find-links wheels village-sim",
            "    village-sim scenarios --lang " + lang,
            f"    {_app_command()}",
            "",
            t("bundle.script", lang, script=script),
            t("bundle.contents", lang, n=n_wheels),
        ]))
    rule = "\n\n" + "=" * 78 + "\n\n"
    return rule.join(sections) + "\n"


def _scripts(target: Target) -> dict[str, str]:
    if target.platform == "windows":
        return {"install.bat": "\r\n".join([
            "@echo off",
            "rem Install village-sim from the wheels in this folder (no internet needed).",
            "cd /d %~dp0",
            f"py -{target.python} -m venv venv || goto :error",
            r"venv\Scripts\python -m pip install --no-index --find-links wheels village-sim"
            " || goto :error",
            r"venv\Scripts\village-sim scenarios",
            "echo.",
            r"echo Done. Activate with: venv\Scripts\activate",
            "goto :eof",
            ":error",
            f"echo Installation failed. Is Python {target.python} installed (64-bit)?",
            "exit /b 1",
        ]) + "\r\n"}
    return {"install.sh": "\n".join([
        "#!/bin/sh",
        "# Install village-sim from the wheels in this folder (no internet needed).",
        "set -e",
        'cd "$(dirname "$0")"',
        f'PYTHON="${{PYTHON:-python{target.python}}}"',
        '"$PYTHON" -m venv venv',
        "venv/bin/python -m pip install --no-index --find-links wheels village-sim",
        "venv/bin/village-sim scenarios",
        'echo "Done. Activate with: . venv/bin/activate"',
    ]) + "\n"}


PYTHONS = ("3.12", "3.13", "3.14")
"""Python versions a bundle can target."""


# ---------------------------------------------------------------------------- entry point
def check_target(platform: str | None = None, arch: str | None = None,
                 python: str | None = None) -> Target:
    """Check the bundle's platform, processor and Python (defaults: this machine's).

    Raises:
        BundleError: naming the option, the value and what is allowed.
    """
    here_platform, here_arch = current_platform()
    platform = platform or here_platform
    if platform not in PLATFORMS:
        raise BundleError("error.not_one_of", at="--platform", value=platform,
                          allowed=", ".join(PLATFORMS))
    if arch is None:
        arch = here_arch if platform == here_platform else ARCHES[platform][0]
    if arch not in ARCHES[platform]:
        raise BundleError("error.bundle_arch", at="--arch", value=arch, platform=platform,
                          allowed=", ".join(ARCHES[platform]))
    python = python or f"{sys.version_info.major}.{sys.version_info.minor}"
    if python not in PYTHONS:
        raise BundleError("error.bundle_python", at="--python", value=python,
                          allowed=", ".join(PYTHONS))
    return Target(platform, arch, python)


def build_bundle(out: str | Path, platform: str | None = None, arch: str | None = None,
                 python: str | None = None, jobs: int = DOWNLOAD_JOBS,
                 progress: Callable[[str], None] | None = None,
                 reuse: Path | None = None) -> Path:
    """Write an offline installation bundle for a classroom laptop.

    Args:
        out: Directory to write (created).
        platform: ``linux``, ``windows`` or ``macos`` (default: this machine's).
        arch: Processor (default: this machine's on this platform, else ``x86_64`` for
            Linux, ``amd64`` for Windows, ``arm64`` for macOS).
        python: ``3.12`` etc. (default: this Python's version).
        jobs: Parallel downloads.
        progress: Called with a short message at each stage.
        reuse: A folder of wheels from an earlier bundle: they are linked in first, so only
            what is missing is downloaded.

    Returns:
        The bundle directory.

    Raises:
        BundleError: for a bad platform or Python, or a failed download or build.
    """
    say = progress or (lambda message: None)
    target = check_target(platform, arch, python)
    platform, arch, python = target.platform, target.arch, target.python
    root = project_root()
    out = Path(out)
    wheels = out / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    if reuse is not None and reuse.is_dir():  # the wheels of an earlier bundle
        for wheel in reuse.glob("*.whl"):
            if not (wheels / wheel.name).exists():
                try:
                    os.link(wheel, wheels / wheel.name)
                except OSError:
                    shutil.copy2(wheel, wheels / wheel.name)

    say("reading uv.lock")
    pins = locked_requirements(root, target)
    source_only = _source_only(root)
    pip = pip_command()
    binary = [(n, v) for n, v in pins if n not in source_only]
    built = [(n, v) for n, v in pins if n in source_only]
    say(f"downloading {len(binary)} wheels for {platform} {arch}, Python {python}")
    _download(pip, binary, target, wheels, jobs)
    if built:
        say("building wheels of source-only packages: " + ", ".join(n for n, _ in built))
        _build_source_only(pip, built, wheels)
    say("building the village-sim wheel")
    own = _build_project(root, wheels, pip)
    version = own.name.split("-")[1]

    names = sorted(p.name for p in wheels.glob("*.whl"))
    (out / "requirements.txt").write_text(
        "".join(f"{n}=={v}\n" for n, v in pins) + f"village-sim=={version}\n", encoding="utf-8")
    (out / "INSTALL.txt").write_text(install_text(target, version, len(names)),
                                     encoding="utf-8")
    for name, text in _scripts(target).items():
        path = out / name
        path.write_text(text, encoding="utf-8", newline="")
        if name.endswith(".sh"):
            os.chmod(path, 0o755)
    manifest = {"village_sim": version, "platform": platform, "arch": arch, "python": python,
                "abi": target.abi, "platform_tags": platform_tags(target), "wheels": names,
                "install": "python -m pip install --no-index --find-links wheels village-sim"}
    (out / "bundle.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    say(f"{len(names)} wheels in {wheels}")
    return out
