"""The Docker image and the Spark compose file agree with setup.cfg and the CLI (no engine)."""

import configparser
import re
import shlex
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.version import Version

from astrovader.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "docker" / "Dockerfile"


def _instructions():
    """(INSTRUCTION, arguments) pairs of the Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [tuple(line.split(None, 1)) for line in lines if line and not line.startswith("#")]


def _setup():
    parser = configparser.ConfigParser()
    parser.read(ROOT / "setup.cfg")
    return parser


def _requirements(text):
    return [Requirement(line) for line in text.strip().splitlines() if line.strip()]


def test_base_image_tensorflow_satisfies_the_setup_cfg_pin():
    froms = [args for op, args in _instructions() if op == "FROM"]
    assert len(froms) == 1
    match = re.fullmatch(r"tensorflow/tensorflow:(\d+\.\d+\.\d+)-gpu", froms[0])
    assert match, f"not the official TensorFlow GPU base: {froms[0]}"
    pins = {r.name: r for r in _requirements(_setup()["options"]["install_requires"])}
    assert Version(match.group(1)) in pins["tensorflow"].specifier
    # tf-keras must match the base's TensorFlow minor version, as setup.cfg pins it.
    assert Version(match.group(1)) in pins["tf-keras"].specifier


def test_image_installs_the_package_from_its_own_setup_cfg():
    steps = _instructions()
    copies = [shlex.split(args) for op, args in steps if op == "COPY"]
    copied = {name for args in copies for name in args[:-1]}
    setup = _setup()
    needed = {"setup.cfg", "pyproject.toml", "astrovader"}
    needed |= set(re.findall(r"file:\s*(\S+)", setup["metadata"]["long_description"]))
    assert needed <= copied, f"not copied into the image: {needed - copied}"
    installs = [args for op, args in steps if op == "RUN" and "pip install" in args]
    assert len(installs) == 1, "one pip install: the package, nothing installed beside it"
    targets = [w for w in shlex.split(installs[0]) if not w.startswith("-")]
    spec = targets[targets.index("install") + 1]
    match = re.fullmatch(r"\.(?:\[([\w,]+)\])?", spec)
    assert match, f"pip must install the copied project ('.'), got {spec!r}"
    extras = set((match.group(1) or "").split(",")) - {""}
    assert extras <= set(setup["options.extras_require"]), extras
    assert "spark" in extras, "the Spark search (compose.spark.yml) needs the spark extra"
    assert ("ENTRYPOINT", '["astrovader"]') in steps


def test_documented_docker_run_line_is_a_valid_fit_command():
    runs = re.findall(r"docker run --gpus all .*?astrovader:gpu (.*)", DOCKERFILE.read_text())
    assert runs
    args = build_parser().parse_args(shlex.split(runs[0]))
    assert args.command == "fit" and args.out.startswith("/runs/")


def test_compose_runs_a_spark_search_that_the_cli_accepts():
    compose = yaml.safe_load((ROOT / "docker" / "compose.spark.yml").read_text())
    services = compose["services"]
    tag = re.search(r"docker build -f docker/Dockerfile -t (\S+) \.", DOCKERFILE.read_text())[1]
    assert {s["image"] for s in services.values()} == {tag}
    master = services["spark-master"]
    assert master["entrypoint"][-1] == "org.apache.spark.deploy.master.Master"
    host, port = master["hostname"], master["command"][master["command"].index("--port") + 1]
    workers = [s for name, s in services.items() if name.startswith("spark-worker")]
    assert len(workers) >= 2
    for worker in workers:
        assert worker["command"][0] == f"spark://{host}:{port}"
        assert worker["volumes"] == services["search"]["volumes"], "trials need the same /runs"
    command = [re.sub(r"\$\{\w+:-(\w+)\}", r"\1", str(a)) for a in services["search"]["command"]]
    args = build_parser().parse_args(command)
    assert args.command == "search" and args.backend == "spark"
    assert args.spark_master == f"spark://{host}:{port}"
    assert args.parallelism == len(workers)
    mounts = dict(v.split(":")[1::-1][:2] for v in services["search"]["volumes"])
    for path in (args.space, args.config):
        inside = next(m for m in mounts if path.startswith(m + "/"))
        local = (ROOT / "docker" / mounts[inside]).resolve() / path[len(inside) + 1 :]
        assert local.is_file(), local
