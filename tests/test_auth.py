import pytest

from app.auth import TokenChecker
from app.errors import AuthenticationFailed


def test_any_configured_token_is_accepted():
    checker = TokenChecker(["alpha-token", "bravo-token"])
    assert checker.is_valid("alpha-token") and checker.is_valid("bravo-token")
    assert not checker.is_valid("alpha-toke") and not checker.is_valid("")


@pytest.mark.parametrize("header", ["Bearer bravo-token", "bearer bravo-token",
                                    "BEARER  bravo-token ", " Bearer bravo-token"])
def test_scheme_is_case_insensitive(header):
    TokenChecker(["bravo-token"]).check_header(header)


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", "Basic bravo-token",
                                    "bravo-token", "Bearer wrong"])
def test_missing_or_wrong_is_refused(header):
    with pytest.raises(AuthenticationFailed) as caught:
        TokenChecker(["bravo-token"]).check_header(header)
    assert caught.value.status == 401
    assert caught.value.headers() == {"WWW-Authenticate": "Bearer"}


def test_no_tokens_means_open():
    checker = TokenChecker([])
    assert not checker.enabled
    checker.check_header(None)


def test_comparison_uses_constant_time_compare(monkeypatch):
    import hmac

    calls = []
    real = hmac.compare_digest
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: calls.append(1) or real(a, b))
    TokenChecker(["one", "two", "three"]).is_valid("one")
    assert len(calls) == 3  # every token is compared, no early exit
