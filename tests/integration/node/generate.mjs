// images.generate through the gateway with the official Node SDK; prints one JSON line.
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(path.join(process.cwd(), "package.json"));
const OpenAI = require("openai").default ?? require("openai");

const client = new OpenAI({
  baseURL: process.env.GATEWAY_URL + "/v1",
  apiKey: process.env.GATEWAY_TOKEN,
  maxRetries: 0,
});
const result = await client.images.generate({
  model: process.env.MODEL,
  prompt: "a lighthouse at dusk",
  n: 2,
  size: "1792x1024",
  response_format: "b64_json",  // dall-e-3 would default to a URL
});
let refused = null;
try {
  await client.images.generate({ prompt: "x", size: "1000x300" });
} catch (error) {
  refused = { status: error.status, param: error.param, code: error.code };
}
console.log(JSON.stringify({
  images: result.data.map((d) => d.b64_json.slice(0, 8)),
  size: result.size,
  usage: result.usage,
  refused,
}));
