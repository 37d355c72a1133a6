// images.generate({stream: true, partial_images: 2}) with the official Node SDK: one JSON
// line per event.
const OpenAI = require("openai");
const client = new OpenAI({baseURL: process.env.GATEWAY_URL + "/v1",
                           apiKey: process.env.GATEWAY_TOKEN, maxRetries: 0});
(async () => {
  const stream = await client.images.generate({prompt: "a fox", stream: true,
                                               partial_images: 2});
  for await (const event of stream) {
    console.log(JSON.stringify({type: event.type, index: event.partial_image_index,
                                bytes: Buffer.from(event.b64_json, "base64").length,
                                usage: event.usage ? event.usage.total_tokens : null}));
  }
})().catch((error) => { console.error(String(error)); process.exit(1); });
