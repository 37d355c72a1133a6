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
    conf = load(monkeypatch, tmp_path, GEMINI_API_KEYS="k", PROXY_AUTH_KEYS="t", PORT="9123",
                WEB_CONCURRENCY="3")
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
    conf = load(monkeypatch, tmp_path, GEMINI_API_KEYS="k", PROXY_AUTH_KEYS="t")
    assert conf["bind"] == ["0.0.0.0:8000"]


@pytest.mark.parametrize(("env", "bind"), [
    ({}, "127.0.0.1:8000"),
    ({"ALLOW_OPEN": "true"}, "0.0.0.0:8000"),
    ({"HOST": "::"}, "[::]:8000"),
])
def test_real_keys_without_client_tokens_stay_on_this_machine(monkeypatch, tmp_path, env, bind):
    assert load(monkeypatch, tmp_path, GEMINI_API_KEYS="k", **env)["bind"] == [bind]


class FakeServer:
    LISTENERS = ("http://127.0.0.1:8000",)

    def __init__(self):
        self.lines = []
        self.log = self

    def info(self, message, *args):
        self.lines.append(message % args)

    warning = info


def test_banner_says_why_it_listens_on_loopback_and_how_to_open(monkeypatch, tmp_path):
    server = FakeServer()
    load(monkeypatch, tmp_path, GEMINI_API_KEYS="k")["when_ready"](server)
    banner = "\n".join(server.lines)
    assert "this machine only (127.0.0.1)" in banner
    assert "PROXY_AUTH_KEYS" in banner and "ALLOW_OPEN=true" in banner and "HOST" in banner


def test_every_bad_value_is_named_on_a_line_of_its_own(monkeypatch, tmp_path, capsys):
    with pytest.raises(SystemExit) as caught:
        load(monkeypatch, tmp_path, GEMINI_API_KEYS="k", MAX_RETRIES="many", PORT="http",
             WEB_CONCURRENCY="lots")
    assert caught.value.code == 2
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(": ")[2].split()[0] for line in lines] == [
        "PORT", "MAX_RETRIES", "WEB_CONCURRENCY"]


def test_bad_value_exits_with_status_2(monkeypatch, tmp_path, capsys):
    with pytest.raises(SystemExit) as caught:
        load(monkeypatch, tmp_path, GEMINI_API_KEYS="k", MAX_RETRIES="many")
    assert caught.value.code == 2
    assert "MAX_RETRIES" in capsys.readouterr().err
