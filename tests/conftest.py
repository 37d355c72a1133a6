import pytest
import responses
from flask.testing import FlaskClient

from app import create_app
from app.config import VARIABLES

KEYS = ("AIzaTestKeyAlpha0000000000000001", "AIzaTestKeyBravo0000000000000002")
TOKENS = ("client-token-one-xyz", "client-token-two-xyz")
BASE = "https://gemini.test/v1beta/openai"
IMAGES_URL = BASE + "/images/generations"
# The native API's root: the seed's compat URL with its /openai dropped.
ROOT = "https://gemini.test/v1beta"


@pytest.fixture(autouse=True)
def hermetic_environment(monkeypatch):
    """No test sees the developer's configuration."""
    for name in (*VARIABLES, "WEB_CONCURRENCY", "FORWARDED_ALLOW_IPS",
                 "PROMETHEUS_MULTIPROC_DIR"):
        monkeypatch.delenv(name, raising=False)


def gateway_env(**overrides):
    """The tests' configuration. UPSTREAM_API=openai: the compat pass-through, whose fakes
    most older tests script; native tests pass UPSTREAM_API="gemini"."""
    env = {
        "GEMINI_API_KEYS": ",".join(KEYS),
        "PROXY_AUTH_KEYS": ",".join(TOKENS),
        "GEMINI_BASE_URL": BASE,
        "UPSTREAM_API": "openai",
        "RETRY_DELAY": "0",
        "QUEUE_TIMEOUT": "1",
    }
    env.update({k: str(v) for k, v in overrides.items()})
    return env


class ClosingClient(FlaskClient):
    """Reads and closes every response, as a WSGI server does, so the callbacks that run
    when a response is closed (access line, request metrics) have run when it returns."""

    def open(self, *args, **kwargs):
        kwargs.setdefault("buffered", True)
        return super().open(*args, **kwargs)


@pytest.fixture
def make_app():
    built = []

    def make(**overrides):
        app = create_app(gateway_env(**overrides))
        app.test_client_class = ClosingClient
        built.append(app)
        return app

    yield make
    for app in built:  # an app with REDIS_URL holds pooled connections
        link = app.extensions["gateway"].redis
        if link is not None:
            link.close()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def auth():
    return {"Authorization": f"Bearer {TOKENS[0]}"}


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """One redis-server for the session; tests keep apart with ``redis_prefix``."""
    from tests.redis_server import RedisServer

    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture
def redis_prefix(request):
    """A REDIS_PREFIX no other test uses."""
    import uuid

    return f"test-{uuid.uuid4().hex[:8]}:"


@pytest.fixture
def upstream():
    """A `responses` fake of Gemini for the test; unmatched calls fail the request."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def native(make_app, tmp_path):
    """``native(**env)``: a test client of the native backend (UPSTREAM_API=gemini), its
    image store in the test's own folder."""
    def make(**overrides):
        overrides.setdefault("IMAGE_STORE_DIR", str(tmp_path / "images"))
        return make_app(UPSTREAM_API="gemini", **overrides).test_client()
    return make
