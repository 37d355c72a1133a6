"""Where each contender is asked: the same POST, the path each one serves it on."""

from app.config import DEFAULT_MODEL

# Compat (S1–S5): the gateway POSTs to {GEMINI_BASE_URL}/images/generations.
UPSTREAM_BASE_PATH = "/v1beta/openai"
UPSTREAM_PATH = UPSTREAM_BASE_PATH + "/images/generations"
GATEWAY_PATH = "/v1/images/generations"
# Native (N1–N6): the gateway POSTs to {root}/models/{model}:generateContent.
NATIVE_ROOT_PATH = "/v1beta"
NATIVE_UPSTREAM_PATH = f"{NATIVE_ROOT_PATH}/models/{DEFAULT_MODEL}:generateContent"
# Where the static upstream keeps the native answer it serves to every :generateContent.
NATIVE_ANSWER_FILE = "/native-answer.json"
