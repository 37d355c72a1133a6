"""gunicorn.conf.py is read in the master: check what it derives from the environment."""

import runpy
from pathlib import Path

import dotenv
import pytest

CONF = str(Path(__file__).resolve().parents[1] / "gunicorn.conf.py")


def load(monkeypatch, tmp_path, **env):
    # A developer's .env must neither change the result nor leak into os.environ.
    monkeypatch.setattr(dotenv, "load_dotenv", lambda *args, **kwargs: False)
    # The file sets this for its workers; keep it from outliving the test.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(CONF)


def test_binds_all_interfaces_on_port_with_gevent(monkeypatch, tmp_path):
    conf = load(monkeypatch, tmp_path, GEMINI_API_KEYS="k", PORT="9123", WEB_CONCURRENCY="3")
    assert conf["bind"] == ["0.0.0.0:9123"]
    assert conf["worker_class"] == "gevent"
    assert conf["workers"] == 3
    assert conf["worker_connections"] >= 1000
    assert conf["preload_app"] is False


def test_graceful_timeout_covers_the_longest_request(monkeypatch, tmp_path):
    conf = load(monkeypatch, tmp_path, GEMINI_API_KEYS="k", QUEUE_TIMEOUT="20",
                REQUEST_DEADLINE="100")
    assert conf["graceful_timeout"] >= 120


def test_default_port_is_8000(monkeypatch, tmp_path):
    assert load(monkeypatch, tmp_path, GEMINI_API_KEYS="k")["bind"] == ["0.0.0.0:8000"]


def test_bad_value_exits_with_status_2(monkeypatch, tmp_path, capsys):
    with pytest.raises(SystemExit) as caught:
        load(monkeypatch, tmp_path, GEMINI_API_KEYS="k", MAX_RETRIES="many")
    assert caught.value.code == 2
    assert "MAX_RETRIES" in capsys.readouterr().err
