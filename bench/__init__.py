"""The project's benchmark: the gateway against direct access and nginx ``proxy_pass``.

``make bench`` (or ``python -m bench``) runs every scenario of issue 5 on loopback only,
with the proxy under test pinned to core 0 and load + upstream pinned to core 1, and writes
a Markdown table and JSON under ``bench/results/``. See the README's "Benchmark" section.
"""
