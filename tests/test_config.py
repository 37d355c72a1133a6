import pytest

from app.config import DEFAULT_BASE_URL, ConfigError, Settings


def parse(**env):
    base = {"GEMINI_API_KEYS": "k1"}
    base.update(env)
    return Settings.from_environ({k: v for k, v in base.items() if v is not None})


def test_defaults_match_what_operators_use():
    s = parse()
    assert (s.port, s.max_concurrent, s.max_retries, s.retry_delay_ms) == (8000, 10, 3, 1000)
    assert s.gemini_base_url == DEFAULT_BASE_URL
    assert (s.upstream_connect_timeout, s.upstream_read_timeout) == (10, 180)
    assert (s.request_deadline, s.queue_timeout) == (300, 30)
    assert s.client_body_timeout == 30
    assert s.max_body_bytes == 1024 * 1024
    assert s.max_upstream_bytes == 64 * 1024 * 1024
    assert s.default_model == "gemini-nano-banana-2.1" and s.upstream_api == "gemini"
    assert DEFAULT_BASE_URL == "https://generativelanguage.googleapis.com/v1beta"
    assert s.log_level == "info"
    assert s.proxy_auth_keys == ()
    assert not s.auth_enabled and not s.demo


def test_key_lists_are_trimmed_deduplicated_and_ordered():
    s = parse(GEMINI_API_KEYS=" a , b,,a, c ,", PROXY_AUTH_KEYS="t1,t1, t2")
    assert s.gemini_api_keys == ("a", "b", "c")
    assert s.proxy_auth_keys == ("t1", "t2")
    assert s.auth_enabled


def test_every_variable_is_parsed():
    s = parse(
        PORT="9000", GEMINI_BASE_URL="http://127.0.0.1:5000/x/", MAX_CONCURRENT="3",
        MAX_RETRIES="0", RETRY_DELAY="250", UPSTREAM_CONNECT_TIMEOUT="2.5",
        UPSTREAM_READ_TIMEOUT="60", REQUEST_DEADLINE="90", QUEUE_TIMEOUT="0",
        MAX_BODY_BYTES="2048", MAX_UPSTREAM_BYTES="4096",
        DEFAULT_MODEL="gemini-3-pro-image-preview",
        LOG_LEVEL="DEBUG", DEMO="false",
    )
    assert s.port == 9000
    assert s.gemini_base_url == "http://127.0.0.1:5000/x"
    assert (s.max_concurrent, s.max_retries, s.retry_delay_ms) == (3, 0, 250)
    assert (s.upstream_connect_timeout, s.upstream_read_timeout) == (2.5, 60)
    assert (s.request_deadline, s.queue_timeout) == (90, 0)
    assert (s.max_body_bytes, s.max_upstream_bytes) == (2048, 4096)
    assert s.default_model == "gemini-3-pro-image-preview"
    assert s.log_level == "debug"


def test_blank_values_take_the_default():
    assert parse(PORT="  ", MAX_RETRIES="").port == 8000


@pytest.mark.parametrize(
    ("name", "value", "accepted"),
    [
        ("PORT", "eighty", "whole number from 1 to 65535"),
        ("PORT", "0", "whole number from 1 to 65535"),
        ("PORT", "70000", "whole number from 1 to 65535"),
        ("MAX_CONCURRENT", "0", "whole number from 1"),
        ("MAX_CONCURRENT", "2.5", "whole number from 1"),
        ("MAX_RETRIES", "-1", "whole number from 0 to 10"),
        ("RETRY_DELAY", "1s", "whole number from 0"),
        ("UPSTREAM_CONNECT_TIMEOUT", "soon", "number of seconds"),
        ("UPSTREAM_READ_TIMEOUT", "nan", "number of seconds"),
        ("REQUEST_DEADLINE", "inf", "number of seconds"),
        ("QUEUE_TIMEOUT", "-1", "number of seconds"),
        ("CLIENT_BODY_TIMEOUT", "0", "number of seconds"),
        ("MAX_BODY_BYTES", "1MB", "whole number"),
        ("MAX_UPSTREAM_BYTES", "10", "whole number from 1024"),
        ("GEMINI_BASE_URL", "ftp://x", "http:// or https:// URL"),
        ("GEMINI_BASE_URL", "https://x/?key=1", "without query"),
        ("DEFAULT_MODEL", "two words", "model id"),
        ("LOG_LEVEL", "loud", "debug, info, warning, error, critical"),
        ("DEMO", "maybe", "true or false"),
        ("GEMINI_API_KEYS", "a b,c", "without spaces"),
    ],
)
def test_bad_values_name_the_variable_and_the_accepted_form(name, value, accepted):
    with pytest.raises(ConfigError) as caught:
        parse(**{name: value})
    assert str(caught.value).startswith(name)
    assert accepted in str(caught.value)


@pytest.mark.parametrize("keys", [None, "", " , ,"])
def test_keys_are_required_outside_demo_mode(keys):
    with pytest.raises(ConfigError, match=r"^GEMINI_API_KEYS is required"):
        parse(GEMINI_API_KEYS=keys)


def test_demo_mode_needs_no_keys():
    assert parse(GEMINI_API_KEYS=None, DEMO="true").demo


def test_deadline_shorter_than_connect_timeout_is_refused():
    with pytest.raises(ConfigError, match="REQUEST_DEADLINE"):
        parse(REQUEST_DEADLINE="1", UPSTREAM_CONNECT_TIMEOUT="5")


def test_secrets_stay_out_of_repr_and_errors():
    s = parse(GEMINI_API_KEYS="AIzaSecretKey123456", PROXY_AUTH_KEYS="tok-secret-999")
    assert "AIzaSecretKey123456" not in repr(s)
    assert "tok-secret-999" not in repr(s)
    with pytest.raises(ConfigError) as caught:
        parse(GEMINI_API_KEYS="AIza Secret")
    assert "Secret" not in str(caught.value)


def test_every_bad_variable_is_reported_at_once():
    with pytest.raises(ConfigError) as caught:
        Settings.from_environ({"PORT": "http", "MAX_RETRIES": "many", "LOG_LEVEL": "loud",
                               "METRICS_AUTH": "true"})
    named = [problem.split()[0] for problem in caught.value.problems]
    assert named == ["PORT", "MAX_RETRIES", "LOG_LEVEL", "GEMINI_API_KEYS", "METRICS_AUTH=true"]
    assert all(name.split("=")[0] in str(caught.value) for name in named)


def test_a_malformed_key_list_is_not_also_called_missing():
    with pytest.raises(ConfigError) as caught:
        Settings.from_environ({"GEMINI_API_KEYS": "a b"})
    assert len(caught.value.problems) == 1


@pytest.mark.parametrize(("env", "host"), [
    ({}, "127.0.0.1"),                                  # real keys, no tokens: not open
    ({"PROXY_AUTH_KEYS": "t1"}, "0.0.0.0"),
    ({"ALLOW_OPEN": "true"}, "0.0.0.0"),
    ({"DEMO": "true"}, "0.0.0.0"),                      # demo stays easy: no quota at stake
    ({"HOST": "0.0.0.0"}, "0.0.0.0"),
    ({"HOST": "10.1.2.3", "PROXY_AUTH_KEYS": "t1"}, "10.1.2.3"),
    ({"HOST": "[::]"}, "::"),
    ({"HOST": "gateway.internal"}, "gateway.internal"),
])
def test_where_the_gateway_listens(env, host):
    assert parse(**env).bind_host == host


@pytest.mark.parametrize("value", ["0.0.0.0:80", "http://x", "a b", "-x", "x" * 300])
def test_bad_hosts_are_refused(value):
    with pytest.raises(ConfigError, match=r"^HOST must be an address"):
        parse(HOST=value)
