"""The image store on its own: disk (a folder) and Redis (a real redis-server)."""

import base64
import errno
import os
import time

import pytest

from app.errors import StoreUnavailable
from app.store import decoded, valid_name
from app.store.disk import DiskStore
from app.store.redis import RedisStore
from tests.redis_server import redis_server  # noqa: F401 - the fixture

JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40


class Clock:
    def __init__(self):
        self.now = time.time()

    def __call__(self):
        return self.now


def chunks(data, size=1000):
    return [data[i:i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize("size", [1, 3, 4, 5, 1000, 10**6])
def test_base64_is_decoded_chunk_by_chunk_whatever_the_chunk_size(size):
    b64 = base64.b64encode(JPEG + b"x")  # padded
    assert b"".join(decoded(chunks(b64, size))) == JPEG + b"x"


def test_names_are_unguessable_and_only_the_stores_own_are_read(tmp_path):
    store = DiskStore(str(tmp_path), 3600, 10**9)
    names = {store.put([JPEG], "jpeg") for _ in range(50)}
    assert len(names) == 50
    for name in names:
        identifier, _, ext = name.partition(".")
        assert ext == "jpeg" and len(identifier) == 32 and valid_name(name)  # 192 bits
    (tmp_path.parent / "secret.png").write_bytes(b"x")
    for hostile in ("../secret.png", "..%2Fsecret.png", "a.png", "x" * 32 + ".gif",
                    "x" * 32 + ".png/", ".incoming-x"):
        assert store.get(hostile) is None


def test_disk_store_keeps_the_bytes_until_the_ttl_then_forgets_them(tmp_path):
    clock = Clock()
    store = DiskStore(str(tmp_path / "images"), 60, 10**9, clock=clock)
    name = store.put(chunks(JPEG), "jpeg")
    path = tmp_path / "images" / name
    os.utime(path, (clock.now, clock.now))
    found = store.get(name)
    assert found.content_type == "image/jpeg" and found.size == len(JPEG)
    assert path.read_bytes() == JPEG and found.expires_in == pytest.approx(60)
    assert [p.name for p in (tmp_path / "images").iterdir()] == [name]  # no temp file left
    clock.now += 61
    assert store.get(name) is None
    assert not path.exists()  # removed when found expired


def test_each_write_sweeps_expired_files_and_the_oldest_past_the_byte_limit(tmp_path):
    clock = Clock()
    store = DiskStore(str(tmp_path), 60, 3 * len(JPEG), clock=clock)
    first, older, old = (store.put([JPEG], "jpeg") for _ in range(3))
    os.utime(tmp_path / first, (clock.now - 100, clock.now - 100))  # expired
    os.utime(tmp_path / older, (clock.now - 20, clock.now - 20))
    os.utime(tmp_path / old, (clock.now - 10, clock.now - 10))
    (tmp_path / ".incoming-abandoned").write_bytes(b"half")
    os.utime(tmp_path / ".incoming-abandoned", (clock.now - 100, clock.now - 100))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [first, older, old, ".incoming-abandoned"])
    newest = store.put([JPEG], "jpeg")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([older, old, newest])
    newer = store.put([JPEG, JPEG], "jpeg")  # over the limit: the oldest go first
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([newest, newer])


def test_a_failed_disk_write_is_a_503_and_leaves_nothing_behind(tmp_path):
    store = DiskStore(str(tmp_path), 60, 10**9)

    def disk_fills_up():
        yield JPEG
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(StoreUnavailable) as caught:
        store.put(disk_fills_up(), "jpeg")
    assert caught.value.status == 503
    assert "No space left on device" in caught.value.message
    assert list(tmp_path.iterdir()) == []

    blocked = tmp_path / "a-file"
    blocked.write_bytes(b"")
    with pytest.raises(StoreUnavailable):
        DiskStore(str(blocked), 60, 10**9).put([JPEG], "jpeg")


def test_redis_store_shares_images_and_lets_redis_expire_them(redis_server):  # noqa: F811
    store = RedisStore.from_url(redis_server.url, "test:", 3600)
    name = store.put(chunks(JPEG, 333), "png")
    other_worker = RedisStore.from_url(redis_server.url, "test:", 3600)
    found = other_worker.get(name)
    assert found.data == JPEG and found.content_type == "image/png"
    assert 3590 < found.expires_in <= 3600
    keys = sorted(k.decode() for k in redis_server.client().keys("*"))
    assert keys == [f"test:image:{name}"]  # the incoming key was renamed into place
    assert 3590 < redis_server.client().ttl(keys[0]) <= 3600

    short = RedisStore.from_url(redis_server.url, "test:", 0.2)
    brief = short.put([JPEG], "jpeg")
    assert short.get(brief) is not None
    time.sleep(0.3)
    assert short.get(brief) is None
    assert store.get("../x") is None


def test_redis_down_is_a_503_that_does_not_quote_the_url(redis_server):  # noqa: F811
    url = f"redis://:hunter2-password@127.0.0.1:{redis_server.port}/0"
    redis_server.stop()
    store = RedisStore.from_url(url, "test:", 60)
    for attempt in (lambda: store.put([JPEG], "jpeg"), lambda: store.get("x" * 32 + ".png")):
        with pytest.raises(StoreUnavailable) as caught:
            attempt()
        assert "unreachable" in caught.value.message
        assert "hunter2" not in caught.value.message
