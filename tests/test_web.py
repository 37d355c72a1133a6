"""The playground and dashboard pages, their switch and headers, and /admin/stats."""

import re
from pathlib import Path

import pytest
import responses

from app.config import ConfigError, Settings
from tests import gemini_bodies as gemini
from tests.conftest import IMAGES_URL, KEYS, TOKENS

ADMIN = "admin-token-abcdef0123456789"
ADMIN_AUTH = {"Authorization": f"Bearer {ADMIN}"}
STATIC = Path(__file__).resolve().parents[1] / "app" / "static"


# ---- PLAYGROUND --------------------------------------------------------------------------


@pytest.mark.parametrize(("env", "enabled"), [
    ({"DEMO": "true"}, True),                                   # demo: on
    ({"GEMINI_API_KEYS": "k" * 20, "PROXY_AUTH_KEYS": "t" * 20}, True),  # behind tokens: on
    ({"GEMINI_API_KEYS": "k" * 20}, False),                     # open gateway: off
    ({"GEMINI_API_KEYS": "k" * 20, "PLAYGROUND": "true"}, True),
    ({"DEMO": "true", "PLAYGROUND": "off"}, False),
])
def test_playground_default_follows_demo_and_tokens(env, enabled):
    assert Settings.from_environ(env).playground_enabled is enabled


def test_playground_variable_must_be_a_boolean():
    with pytest.raises(ConfigError, match="PLAYGROUND must be true or false"):
        Settings.from_environ({"DEMO": "true", "PLAYGROUND": "maybe"})


def test_playground_off_answers_404(make_app):
    response = make_app(PLAYGROUND="false").test_client().get("/")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_playground_page_with_tokens_configured(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.content_type.startswith("text/html")
    html = response.get_data(as_text=True)
    assert 'data-token-needed="true"' in html
    assert 'id="generate-form"' in html and 'id="edit-form"' in html


def test_an_open_demo_gateway_shows_no_token_form(make_app):
    html = make_app(DEMO="true", PROXY_AUTH_KEYS="").test_client().get("/").get_data(as_text=True)
    assert 'data-token-needed="false"' in html and 'id="token-form"' not in html
    assert "demo mode" in html


# ---- what the pages may and may not hold ---------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/admin"])
def test_pages_carry_a_strict_csp_and_no_inline_code(make_app, path):
    response = make_app(ADMIN_TOKEN=ADMIN).test_client().get(path)
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "img-src 'self' data: blob:" in csp
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    html = response.get_data(as_text=True)
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts and all(" src=" in tag for tag in scripts)  # no inline script
    assert "<style" not in html and " style=" not in html     # no inline style
    assert not re.search(r"\son[a-z]+=", html)                 # no inline handler
    for secret in (*KEYS, *TOKENS, ADMIN):
        assert secret not in html


def test_every_asset_a_page_names_is_served(make_app):
    client = make_app(ADMIN_TOKEN=ADMIN).test_client()
    for path in ("/", "/admin"):
        html = client.get(path).get_data(as_text=True)
        for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
            assert client.get(asset).status_code == 200, asset


def test_scripts_keep_tokens_out_of_urls_and_cookies():
    """Tokens live in sessionStorage and travel only in the Authorization header."""
    code = "\n".join(path.read_text() for path in STATIC.glob("*.js"))
    assert "document.cookie" not in code and "localStorage" not in code
    assert "sessionStorage" in code and '"Bearer "' in code
    assert not re.search(r"[?&](token|key|api_key)=", code)


def test_package_data_ships_the_pages():
    """A wheel carries templates and static files only if pyproject names them."""
    import tomllib

    config = tomllib.loads((STATIC.parents[1] / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["app"]
    files = [p.relative_to(STATIC.parent) for p in STATIC.parent.glob("*/*")
             if p.parent.name in ("static", "templates")]
    assert files
    for file in files:
        assert any(file.match(pattern) for pattern in patterns), file


# ---- the dashboard page ------------------------------------------------------------------


def test_dashboard_page_says_how_to_turn_it_on_without_admin_token(client):
    response = client.get("/admin")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "The dashboard is off" in html and "ADMIN_TOKEN" in html
    assert "dashboard.js" not in html
    # The JSON routes are as closed as before.
    assert client.get("/admin/keys", headers=ADMIN_AUTH).status_code == 404
    assert client.get("/admin/stats", headers=ADMIN_AUTH).status_code == 404


def test_dashboard_page_is_served_without_a_token_and_holds_no_data(make_app):
    client = make_app(ADMIN_TOKEN=ADMIN).test_client()
    html = client.get("/admin").get_data(as_text=True)
    assert "dashboard.js" in html
    assert "…0001" not in html and "…0002" not in html


# ---- /admin/stats --------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong-token-000000000"},
                                     {"Authorization": f"Bearer {TOKENS[0]}"}])
def test_stats_need_the_admin_token(make_app, headers):
    response = make_app(ADMIN_TOKEN=ADMIN).test_client().get("/admin/stats", headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["message"]


def test_stats_count_requests_latency_and_images(make_app):
    client = make_app(ADMIN_TOKEN=ADMIN).test_client()
    auth = {"Authorization": f"Bearer {TOKENS[0]}"}
    with responses.RequestsMock() as upstream:
        upstream.post(IMAGES_URL, json=gemini.images(2))
        upstream.post(IMAGES_URL, json=gemini.images(1))
        for _ in range(2):
            assert client.post("/v1/images/generations", json={"prompt": "x", "n": 2},
                               headers=auth).status_code == 200
    client.post("/v1/images/generations", json={"prompt": ""}, headers=auth)  # a 400
    client.get("/v1/models")  # a 401

    stats = client.get("/admin/stats", headers=ADMIN_AUTH).get_json()
    requests = {(r["route"], r["status"]): r["count"] for r in stats["requests"]}
    assert requests[("/v1/images/generations", "200")] == 2
    assert requests[("/v1/images/generations", "400")] == 1
    assert requests[("/v1/models", "401")] == 1
    assert stats["images"] == 3  # made and delivered; the 400 made none
    assert stats["tokens"] == {"input": 0, "output": 0}
    (latency,) = [h for h in stats["latency"] if h["route"] == "/v1/images/generations"]
    assert latency["count"] == 3 and latency["sum"] > 0
    bounds = [le for le, _ in latency["buckets"]]
    assert bounds[-1] == "+Inf" and bounds[:-1] == sorted(bounds[:-1])
    assert latency["buckets"][-1][1] == 3
    counts = [count for _, count in latency["buckets"]]
    assert counts == sorted(counts)  # cumulative, as Prometheus keeps them
    assert {"key": "…0001", "outcome": "success", "count": 1} in stats["upstream"]
    text = client.get("/admin/stats", headers=ADMIN_AUTH).get_data(as_text=True)
    assert all(secret not in text for secret in (*KEYS, *TOKENS, ADMIN))


def test_stats_count_the_tokens_gemini_reports(make_app):
    """The native demo answers with Gemini's usageMetadata; the answer and the stats agree."""
    client = make_app(DEMO="true", UPSTREAM_API="gemini", ADMIN_TOKEN=ADMIN).test_client()
    auth = {"Authorization": f"Bearer {TOKENS[0]}"}
    used = {"input": 0, "output": 0}
    for n in (1, 2):
        answer = client.post("/v1/images/generations", headers=auth,
                             json={"prompt": "a lighthouse", "n": n}).get_json()
        used["input"] += answer["usage"]["input_tokens"]
        used["output"] += answer["usage"]["output_tokens"]
    stats = client.get("/admin/stats", headers=ADMIN_AUTH).get_json()
    assert stats["tokens"] == used and used["output"] > 0
    assert stats["images"] == 3


def test_stats_sum_images_and_tokens_over_clients(make_app):
    app = make_app(ADMIN_TOKEN=ADMIN)
    metrics = app.extensions["gateway"].metrics
    metrics.client_usage("…-xyz", 1, {"input_tokens": 12, "output_tokens": 1120})
    metrics.client_usage("…-abc", 2, {"input_tokens": 8, "output_tokens": 1680})
    metrics.client_usage("anonymous", 1, None)
    stats = app.test_client().get("/admin/stats", headers=ADMIN_AUTH).get_json()
    assert stats["tokens"] == {"input": 20, "output": 2800}
    assert stats["images"] == 4
