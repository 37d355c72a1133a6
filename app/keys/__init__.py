"""What the gateway knows about each Gemini key: per process (``MemoryStates``) or shared
by every worker and instance (``RedisStates``). ``app.key_pool.KeyPool`` uses both."""

from .states import KeyState, MemoryStates, Pick

__all__ = ["KeyState", "MemoryStates", "Pick"]
