"""The shared-state variables of issue 12: parsed, bounded, secrets kept out of errors."""

import pytest

from app.config import ConfigError, Settings

KEYS = {"GEMINI_API_KEYS": "AIzaTestKeyAlpha0000000000000001"}


def settings(**env):
    return Settings.from_environ({**KEYS, **env})


def test_defaults_keep_todays_per_process_behaviour():
    s = settings()
    assert (s.redis_url, s.redis_prefix, s.client_rate_limit, s.client_image_quota,
            s.key_reprobe_interval) == (None, "gateway:", 0, 0, 600.0)


def test_values_are_read():
    s = settings(REDIS_URL="rediss://:pw@redis.internal:6380/2", REDIS_PREFIX="gw-prod:",
                 CLIENT_RATE_LIMIT="30", CLIENT_IMAGE_QUOTA="500", KEY_REPROBE_INTERVAL="0")
    assert s.redis_url == "rediss://:pw@redis.internal:6380/2"
    assert (s.redis_prefix, s.client_rate_limit, s.client_image_quota,
            s.key_reprobe_interval) == ("gw-prod:", 30, 500, 0.0)
    assert "pw@" not in repr(s)
    assert s.redis_url in s.secrets  # a URL with a password is masked in every log


@pytest.mark.parametrize(("name", "value"), [
    ("REDIS_URL", "http://:s3cr3t-password@redis:6379"),
    ("REDIS_URL", "redis://host name"),
    ("REDIS_PREFIX", "has space"),
    ("REDIS_PREFIX", "x" * 65),
    ("REDIS_PREFIX", "{braces}"),
    ("CLIENT_RATE_LIMIT", "-1"),
    ("CLIENT_IMAGE_QUOTA", "lots"),
    ("KEY_REPROBE_INTERVAL", "-5"),
])
def test_bad_values_name_the_variable(name, value):
    with pytest.raises(ConfigError) as raised:
        settings(**{name: value})
    assert name in str(raised.value)
    assert "s3cr3t-password" not in str(raised.value)
