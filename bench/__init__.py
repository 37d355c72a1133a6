"""The project's benchmark: the gateway against direct access and nginx ``proxy_pass``.

``make bench`` (or ``python -m bench``) runs every scenario of issues 5 (S1–S5, the compat
pass-through) and 8 (N1–N6, native ``generateContent``) on loopback only,
with the proxy under test pinned to core 0 and load + upstream pinned to core 1, and writes
a Markdown table and JSON under ``bench/results/``. See the README's "Benchmark" section.
"""
