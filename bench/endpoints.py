"""Where each contender is asked: the same POST, the path each one serves it on."""

# The gateway POSTs to {GEMINI_BASE_URL}/images/generations.
UPSTREAM_BASE_PATH = "/v1beta/openai"
UPSTREAM_PATH = UPSTREAM_BASE_PATH + "/images/generations"
GATEWAY_PATH = "/v1/images/generations"
