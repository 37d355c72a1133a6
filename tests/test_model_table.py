"""The model table (packaged, replaced or extended by MODELS_FILE), the names clients use,
and the settings that choose the upstream API."""

import pytest

from app.config import ConfigError, Settings
from app.gemini.image_options import nearest_ratio, plan_image
from app.gemini.models import ModelNames, ModelTable
from tests.conftest import KEYS, ROOT

DEFAULT = "gemini-nano-banana-2.1"


def settings(**env):
    return Settings.from_environ({"GEMINI_API_KEYS": KEYS[0], **env})


def test_the_packaged_table_knows_todays_models_as_the_facts_describe_them():
    table = ModelTable.load()
    nano = table.get(DEFAULT)
    assert nano.status == "ga" and len(nano.aspect_ratios) == 14
    assert nano.image_sizes == ("1K", "2K", "4K") and nano.max_input_images == 14
    assert table.get("gemini-3-pro-image").thinking_levels == ()
    assert table.get("gemini-3.1-flash-lite-image").image_sizes == ("1K",)
    legacy = table.get("gemini-2.5-flash-image")
    assert legacy.image_sizes == () and legacy.max_input_images == 3
    assert table.get("gemini-3.1-flash-image").retired
    assert table.get("imagen-4.0-generate-001") is None  # unknown: forwarded, Gemini judges


def test_models_file_replaces_and_extends_entries(tmp_path):
    path = tmp_path / "models.toml"
    path.write_text('[models."gemini-3-pro-image"]\nstatus = "retired"\nnote = "gone"\n'
                    'aspect_ratios = ["1:1"]\n\n'
                    '[models."gemini-9-image"]\nimage_sizes = ["1K", "2K"]\n')
    table = ModelTable.load(str(path))
    assert table.get("gemini-3-pro-image").retired
    assert table.get("gemini-3-pro-image").aspect_ratios == ("1:1",)
    assert table.get("gemini-9-image").image_sizes == ("1K", "2K")
    assert table.get(DEFAULT) is not None  # the rest of the packaged table stays


@pytest.mark.parametrize(("content", "words"), [
    ("not toml [", "not valid TOML"),
    ('[models."m"]\nstatus = "gone"\n', "status must be one of"),
    ('[models."m"]\naspect_ratios = ["7:3"]\n', "aspect_ratios"),
    ('[models."m"]\nimage_sizes = ["1k"]\n', "image_sizes"),
    ('[models."m"]\nthinking_levels = ["MINIMAL"]\ndefault_thinking = "HIGH"\n',
     "default_thinking"),
])
def test_a_bad_models_file_stops_the_gateway_naming_the_variable(tmp_path, content, words):
    path = tmp_path / "models.toml"
    path.write_text(content)
    with pytest.raises(ConfigError) as caught:
        settings(MODELS_FILE=str(path))
    assert "MODELS_FILE" in str(caught.value) and words in str(caught.value)


def test_a_missing_models_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="MODELS_FILE: cannot read"):
        settings(MODELS_FILE=str(tmp_path / "absent.toml"))


def test_aliases_resolve_exact_names_before_prefixes_and_builtins_last():
    names = ModelNames(DEFAULT, (("dall-e-3", "gemini-3-pro-image"), ("team-*", "x-image"),
                                 ("imagen-4*", "gemini-2.5-flash-image")))
    assert names.resolve("dall-e-3") == "gemini-3-pro-image"
    assert names.resolve("dall-e-2") == DEFAULT
    assert names.resolve("team-blue") == "x-image"
    assert names.resolve("imagen-4.0-generate-001") == "gemini-2.5-flash-image"
    assert names.resolve("imagen-3.0-generate-002") == DEFAULT
    assert names.resolve("gpt-image-2.6-flare") == DEFAULT
    assert names.resolve("gemini-3-pro-image") == "gemini-3-pro-image"


@pytest.mark.parametrize("raw", ["dall-e-3", "=x", "a=", "a b=c", "a=b*", "a*b=c"])
def test_malformed_aliases_are_refused(raw):
    with pytest.raises(ConfigError, match="MODEL_ALIASES"):
        settings(MODEL_ALIASES=raw)


def test_the_seed_base_url_still_reaches_the_native_root():
    assert settings().upstream_root == ROOT.replace("gemini.test",
                                                    "generativelanguage.googleapis.com")
    seed = "https://generativelanguage.googleapis.com/v1beta/openai"
    assert settings(GEMINI_BASE_URL=seed).upstream_root == \
        "https://generativelanguage.googleapis.com/v1beta"
    # The compat pass-through uses the URL as it is.
    assert settings(GEMINI_BASE_URL=seed, UPSTREAM_API="openai").upstream_root == seed
    with pytest.raises(ConfigError, match="UPSTREAM_API"):
        settings(UPSTREAM_API="vertex")


@pytest.mark.parametrize(("width", "height", "ratio"), [
    (1792, 1024, "16:9"), (1536, 1024, "3:2"), (512, 512, "1:1"), (1024, 1792, "9:16"),
    (2048, 1024, None), (1000, 1040, "1:1"), (1000, 1060, None)])
def test_nearest_ratio_in_log_space_within_five_percent(width, height, ratio):
    supported = ModelTable.load().get("gemini-3-pro-image").aspect_ratios
    assert nearest_ratio(width, height, supported) == ratio


def test_an_unknown_model_gets_only_what_was_asked():
    plan = plan_image(None, size=(1792, 1024), quality="high")
    assert (plan.aspect_ratio, plan.image_size, plan.thinking_level) == ("16:9", "2K", None)
    assert plan_image(None).image_size is None
