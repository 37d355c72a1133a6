import pytest

from tests.conftest import KEYS, TOKENS
from tests.integration.fake_gemini import FakeGemini
from tests.integration.gateway_process import GatewayProcess

pytestmark = pytest.mark.integration


@pytest.fixture
def fake_gemini():
    fake = FakeGemini().start()
    yield fake
    fake.stop()


@pytest.fixture
def start_gateway(fake_gemini, tmp_path):
    """Start real gunicorn -k gevent against the fake; afterwards, check its output
    holds no key and no token."""
    started: list[GatewayProcess] = []

    def start(**env) -> GatewayProcess:
        settings = {
            "GEMINI_API_KEYS": ",".join(KEYS),
            "PROXY_AUTH_KEYS": ",".join(TOKENS),
            "GEMINI_BASE_URL": fake_gemini.base_url,
            "UPSTREAM_API": "openai",  # the compat pass-through; native tests override
            "RETRY_DELAY": "0",
            "LOG_LEVEL": "debug",
        }
        settings.update({k: str(v) for k, v in env.items()})
        gateway = GatewayProcess(settings, tmp_path / f"gateway-{len(started)}.log")
        started.append(gateway)
        return gateway.start()

    yield start
    for gateway in started:
        gateway.stop()
        output = gateway.output()
        for secret in (*KEYS, *TOKENS):
            assert secret not in output, "a secret reached the server's output"
        assert "Traceback" not in output


@pytest.fixture
def sdk():
    """``sdk(gateway, token, **options)``: an openai client for the gateway, closed after the
    test (an unclosed one's pooled sockets surface later as a warning in another test)."""
    import openai

    made = []

    def make(gateway, token, **options):
        client = openai.OpenAI(base_url=gateway.url + "/v1", api_key=token, **options)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()
