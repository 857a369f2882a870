"""Team scale: `affect train` logs to a remote MLflow tracking server backed by PostgreSQL.

The test starts Debian's PostgreSQL (installed by the test when missing) as the `postgres` user on a free
loopback port with a throw-away cluster, an `mlflow server` on top of it with a local artifact store, runs one
experiment with MLFLOW_TRACKING_URI pointing at the server (nothing else changes), and checks the runs over the
REST API and in the database itself. Everything stops at the end.
"""

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
from pathlib import Path

import pytest
from processed_fixture import write_processed
from test_mlflow_server import _free_port, _get, _post, mlflow_server

pytestmark = pytest.mark.server

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _ensure_postgres() -> Path:
    if not (PG_BIN / "initdb").exists():
        if os.geteuid() != 0 or not shutil.which("apt-get"):
            pytest.skip("PostgreSQL is not installed and cannot be installed here (needs root and apt-get)")
        subprocess.run(["apt-get", "update", "-qq"], check=False, capture_output=True, timeout=300)
        done = subprocess.run(["apt-get", "install", "-y", "-qq", "postgresql"], capture_output=True, text=True,
                              timeout=600, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        if done.returncode != 0:
            pytest.skip(f"apt-get install postgresql failed: {done.stderr[-500:]}")
    if os.geteuid() == 0 and subprocess.run(["id", "postgres"], capture_output=True).returncode != 0:
        pytest.skip("no `postgres` system user to run the server as")
    return PG_BIN


def _as_postgres(args: list[str]):
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    done = subprocess.run(prefix + args, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{' '.join(args)} failed: {done.stdout[-800:]} {done.stderr[-800:]}"
    return done


@contextlib.contextmanager
def postgres_server():
    """A throw-away PostgreSQL cluster on 127.0.0.1:<free port>; yields the port.

    Its folder lives outside pytest's root-only temporary tree, which the `postgres` user cannot enter.
    """
    bin_dir = _ensure_postgres()
    workdir = Path(tempfile.mkdtemp(prefix="affect-pg-"))
    workdir.chmod(0o755)
    data, sockets = workdir / "pgdata", workdir / "pgsock"
    for folder in (data, sockets):
        folder.mkdir(parents=True)
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres")
        for folder in (data, sockets):
            shutil.chown(folder, "postgres")
    port = _free_port()
    _as_postgres([str(bin_dir / "initdb"), "-D", str(data), "--auth=trust", "-U", "postgres"])
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1"
    _as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(workdir / "pg.log"), "-w",
                  "-t", "60", "start"])
    try:
        _as_postgres([str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "mlflow"])
        yield port
    finally:
        _as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"])
        shutil.rmtree(workdir, ignore_errors=True)


def test_train_logs_to_a_postgres_backed_tracking_server(project, tmp_path):
    write_processed(project, subjects=3, clips=3)
    with postgres_server() as pg_port:
        store = f"postgresql+psycopg2://postgres@127.0.0.1:{pg_port}/mlflow"
        with mlflow_server(store, tmp_path / "artifacts", tmp_path / "server.log") as base:
            env = {**os.environ, "AFFECT_ROOT": str(project), "MLFLOW_TRACKING_URI": base}
            done = subprocess.run([sys.executable, "-m", "experiments.cli", "train", "lbptop_svm/casme2",
                                   "--profile", "quick"], cwd=project, env=env, capture_output=True, text=True,
                                  timeout=600)
            assert done.returncode == 0, done.stderr[-2000:]
            run_info = json.loads((project / "results" / "lbptop_svm" / "casme2" / "run.json").read_text())
            assert run_info["tracking_uri"] == base
            api = f"{base}/api/2.0/mlflow"
            name = urllib.parse.quote(run_info["mlflow_experiment"], safe="")
            experiment = _get(f"{api}/experiments/get-by-name?experiment_name={name}")["experiment"]
            runs = _post(f"{api}/runs/search", {"experiment_ids": [experiment["experiment_id"]]})["runs"]
            artifacts = _get(f"{api}/artifacts/list?run_id={run_info['mlflow_run_id']}")
        import psycopg2

        with psycopg2.connect(host="127.0.0.1", port=pg_port, user="postgres", dbname="mlflow") as conn:
            with conn.cursor() as cur:
                cur.execute("SELECT count(*) FROM runs")
                n_runs_in_db = cur.fetchone()[0]

    assert len(runs) == 1 + 3  # the parent and one nested run per LOSO fold
    assert n_runs_in_db == len(runs)
    parent = next(r for r in runs if r["info"]["run_id"] == run_info["mlflow_run_id"])
    assert {m["key"] for m in parent["data"]["metrics"]} >= {"uf1", "uar", "accuracy"}
    assert {f["path"] for f in artifacts.get("files", [])} >= {"config.yaml", "metrics.json", "details.json",
                                                                 "predictions.csv"}
    assert list((tmp_path / "artifacts").rglob("config.yaml")), "artifacts go to the local artifact store"
