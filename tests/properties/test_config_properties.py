"""Settings.from_environ over any environment: a typed value or one ConfigError naming the
variable, never another exception, never a secret in the message."""

import math
import string

from hypothesis import assume, example, given
from hypothesis import strategies as st

from app.config import VARIABLES, ConfigError, Settings
from tests.properties.counting import counted

SECRET_VARIABLES = ("GEMINI_API_KEYS", "PROXY_AUTH_KEYS", "ADMIN_TOKEN")
INTEGERS = {"PORT": (1, 65535), "MAX_CONCURRENT": (1, 100_000), "MAX_RETRIES": (0, 10),
            "RETRY_DELAY": (0, 600_000), "MAX_BODY_BYTES": (1024, 1024 << 20),
            "MAX_UPSTREAM_BYTES": (1024, 4096 << 20)}
ATTRIBUTES = {"PORT": "port", "MAX_CONCURRENT": "max_concurrent", "MAX_RETRIES": "max_retries",
              "RETRY_DELAY": "retry_delay_ms", "MAX_BODY_BYTES": "max_body_bytes",
              "MAX_UPSTREAM_BYTES": "max_upstream_bytes"}
SECONDS = {"UPSTREAM_CONNECT_TIMEOUT": ("upstream_connect_timeout", 0.1, 600),
           "UPSTREAM_READ_TIMEOUT": ("upstream_read_timeout", 0.1, 3600),
           "QUEUE_TIMEOUT": ("queue_timeout", 0, 3600),
           "MODELS_CACHE_TTL": ("models_cache_ttl", 0, 86400)}
KEY_ALPHABET = string.ascii_letters + string.digits + "_-."

# Values a person might type, and values no one would.
plausible = st.sampled_from(["", " ", "0", "1", "-1", "10", "1.5", "nan", "inf", "1e9", "true",
                             "false", "yes", "debug", "json", "*", "https://a.example",
                             "http://127.0.0.1:9", "k1,k2", " , ", "x" * 20, "٣", "1_000"])
any_value = st.one_of(plausible, st.text(max_size=40))
key = st.text(KEY_ALPHABET, min_size=12, max_size=36).map(lambda tail: "AIza" + tail)


@given(st.dictionaries(st.sampled_from(VARIABLES), any_value, max_size=len(VARIABLES)))
@counted
def test_any_environment_gives_settings_or_a_config_error_naming_the_variable(environ):
    try:
        settings = Settings.from_environ(environ)
    except ConfigError as error:
        assert any(str(error).startswith(variable) for variable in VARIABLES)
    else:
        assert settings.gemini_api_keys
        assert settings.request_deadline >= settings.upstream_connect_timeout


@given(st.sampled_from(SECRET_VARIABLES), st.lists(key, min_size=1, max_size=4),
       st.sampled_from([" ", "\t", "\u00a0", "\u3000"]))
@counted
def test_a_rejected_secret_is_never_repeated(variable, secrets, space):
    spoiled = secrets[0][:8] + space + secrets[0][8:]
    environ = {"GEMINI_API_KEYS": "k" * 16, variable: ",".join([spoiled, *secrets[1:]])}
    try:
        Settings.from_environ(environ)
    except ConfigError as error:
        for fragment in (secrets[0][:8], secrets[0][8:]):
            assert fragment not in str(error)
    else:
        raise AssertionError(f"{variable} with whitespace inside a value was accepted")


@given(st.sampled_from(sorted(INTEGERS)), st.integers(-10, 5 << 30), st.text(" \t", max_size=2))
@counted
def test_integers_within_bounds_are_exact_and_others_are_refused(variable, value, pad):
    low, high = INTEGERS[variable]
    environ = {"GEMINI_API_KEYS": "k1", variable: f"{pad}{value}{pad}"}
    if low <= value <= high:
        assert getattr(Settings.from_environ(environ), ATTRIBUTES[variable]) == value
    else:
        try:
            Settings.from_environ(environ)
        except ConfigError as error:
            assert str(error).startswith(variable)
        else:
            raise AssertionError(f"{variable}={value} outside {low}..{high} was accepted")


@given(st.sampled_from(sorted(SECONDS)),
       st.floats(-10, 1e5) | st.sampled_from([math.nan, math.inf, -math.inf]))
@example("QUEUE_TIMEOUT", math.inf)
@counted
def test_seconds_are_finite_and_within_bounds(variable, value):
    attribute, low, high = SECONDS[variable]
    environ = {"GEMINI_API_KEYS": "k1", "REQUEST_DEADLINE": "3600", variable: repr(value)}
    try:
        parsed = getattr(Settings.from_environ(environ), attribute)
    except ConfigError as error:
        assert str(error).startswith(variable)
        assert not (math.isfinite(value) and low <= value <= high)
    else:
        assert math.isfinite(parsed) and low <= parsed <= high and parsed == value


@given(st.lists(st.tuples(key, st.text(" ", max_size=2), st.text(" ", max_size=2)),
                max_size=8), st.integers(0, 3))
@counted
def test_key_lists_are_trimmed_deduplicated_and_ordered(entries, empties):
    raw = ",".join(f"{before}{value}{after}" for value, before, after in entries)
    raw += "," * empties
    keys = [value for value, _, _ in entries]
    assume(keys)
    settings = Settings.from_environ({"GEMINI_API_KEYS": raw})
    assert settings.gemini_api_keys == tuple(dict.fromkeys(keys))
    assert all(secret not in repr(settings) for secret in keys)


@given(st.sampled_from(["DEMO", "LOG_PROMPTS", "METRICS_AUTH"]),
       st.sampled_from(["1", "true", "yes", "on", "0", "false", "no", "off"]),
       st.lists(st.booleans(), min_size=5, max_size=5))
@counted
def test_booleans_in_any_case(variable, word, upper):
    typed = "".join(ch.upper() if flip else ch for ch, flip in zip(word, upper, strict=False))
    typed += word[len(upper):]
    environ = {"GEMINI_API_KEYS": "k1", "ADMIN_TOKEN": "a" * 16, variable: typed}
    settings = Settings.from_environ(environ)
    attribute = {"DEMO": "demo", "LOG_PROMPTS": "log_prompts", "METRICS_AUTH": "metrics_auth"}
    assert getattr(settings, attribute[variable]) is (word in ("1", "true", "yes", "on"))
