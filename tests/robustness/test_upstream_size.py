"""Bounded upstream answers: an answer larger than MAX_UPSTREAM_BYTES is cut off, never
buffered without end, through real gunicorn with gevent workers.

The fake offers a gigabyte and counts what actually left it; the worker's peak RSS
(VmHWM) shows what the gateway held.
"""

import pytest
import requests

from tests.conftest import KEYS, TOKENS
from tests.integration.fake_gemini import Flood, Reply
from tests.robustness import process_stats

AUTH = {"Authorization": f"Bearer {TOKENS[0]}"}
MIB = 1 << 20
GIB = 1 << 30
LIMIT = 8 * MIB
# Room for the interpreter's own churn on top of what the answer itself may occupy.
SLACK = 16 * MIB
IMAGES_PREFIX = b'{"created": 1790000000, "data": [{"b64_json": "'

pytestmark = pytest.mark.integration


def start(launch, fake, **env):
    settings = {"GEMINI_API_KEYS": ",".join(KEYS), "PROXY_AUTH_KEYS": ",".join(TOKENS),
                "GEMINI_BASE_URL": fake.base_url, "UPSTREAM_API": "openai", "RETRY_DELAY": "0",
                **env}
    gateway = launch(settings)
    fake.behaviour = lambda call: Reply()
    assert generate(gateway).status_code == 200  # warm: the worker has imported everything
    (worker,) = process_stats.booted_workers(gateway.output())
    return gateway, worker


def generate(gateway, **kwargs):
    return requests.post(gateway.url + "/v1/images/generations", json={"prompt": "x"},
                         headers=AUTH, timeout=60, **kwargs)


def assert_too_large(response):
    assert response.status_code == 502, response.text[:300]
    assert response.json()["error"]["code"] == "upstream_response_too_large"


def test_a_declared_length_over_the_default_limit_is_refused_before_reading(launch, fake):
    gateway, worker = start(launch, fake)  # MAX_UPSTREAM_BYTES unset: 64 MiB
    before = process_stats.memory_kib(worker)["VmRSS"] * 1024
    fake.behaviour = lambda call: Flood(100 * MIB, prefix=IMAGES_PREFIX)
    assert_too_large(generate(gateway))
    assert fake.flood_bytes_sent < 32 * MIB  # what the sockets' buffers took, not more
    assert process_stats.memory_kib(worker)["VmHWM"] * 1024 - before < SLACK
    fake.behaviour = lambda call: Reply()
    assert generate(gateway).status_code == 200


def test_an_answer_without_length_is_cut_off_at_the_limit_with_a_502(launch, fake):
    gateway, worker = start(launch, fake, MAX_UPSTREAM_BYTES=LIMIT)
    before = process_stats.memory_kib(worker)["VmRSS"] * 1024
    # Small chunks: even an images answer is then read whole (only a first read of a full
    # CHUNK_BYTES starts a relay), so it too is refused with a 502.
    floods = (Flood(GIB, declare_length=False), Flood(GIB, gzip=True),
              Flood(GIB, prefix=IMAGES_PREFIX, declare_length=False, block=16 * 1024))
    for flood in floods:
        fake.behaviour = lambda call, flood=flood: flood
        assert_too_large(generate(gateway))
    # Chunked: what passed the limit plus socket buffers. Gzip: a gigabyte decoded costs
    # about a megabyte on the wire, and the gateway stops after LIMIT decoded bytes.
    assert fake.flood_bytes_sent < 64 * MIB
    assert process_stats.memory_kib(worker)["VmHWM"] * 1024 - before < LIMIT + SLACK
    fake.behaviour = lambda call: Reply()
    assert generate(gateway).status_code == 200


def test_a_relayed_images_answer_over_the_limit_ends_short_and_is_not_held(launch, fake):
    """A large images answer is relayed as it arrives (README): past the limit the status
    line has long gone out, so the only way to say so is to end the body short."""
    gateway, worker = start(launch, fake, MAX_UPSTREAM_BYTES=LIMIT, MAX_CONCURRENT=1)
    before = process_stats.memory_kib(worker)["VmRSS"] * 1024
    fake.behaviour = lambda call: Flood(GIB, prefix=IMAGES_PREFIX, declare_length=False)
    received = 0
    with generate(gateway, stream=True) as response:
        assert response.status_code == 200
        try:
            for chunk in response.iter_content(256 * 1024):
                received += len(chunk)
        except requests.exceptions.ChunkedEncodingError:
            pass
        else:
            raise AssertionError("an answer over the limit was relayed to its end")
    assert LIMIT - MIB < received <= LIMIT
    assert process_stats.memory_kib(worker)["VmHWM"] * 1024 - before < SLACK
    fake.behaviour = lambda call: Reply()
    assert generate(gateway).status_code == 200  # the one slot is free again
