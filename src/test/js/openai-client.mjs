// Drives a running paddock with the official `openai` npm client and fails loudly on any mismatch.
// Usage: node openai-client.mjs http://localhost:PORT/v1 MODEL
import OpenAI from 'openai';
import assert from 'node:assert/strict';

const [baseURL, model] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey: 'not-needed', maxRetries: 0 });

const models = await client.models.list();
assert.ok(models.data.some((m) => m.id === model), 'model listed');

const chat = await client.chat.completions.create({
  model, messages: [{ role: 'user', content: 'Tell me a story.' }], max_tokens: 12, temperature: 0,
});
assert.equal(chat.object, 'chat.completion');
assert.equal(chat.choices[0].message.role, 'assistant');
assert.equal(typeof chat.choices[0].message.content, 'string');
assert.ok(['stop', 'length'].includes(chat.choices[0].finish_reason));
assert.equal(chat.usage.total_tokens, chat.usage.prompt_tokens + chat.usage.completion_tokens);

const stream = await client.chat.completions.create({
  model, messages: [{ role: 'user', content: 'Tell me a story.' }], max_tokens: 12, temperature: 0,
  stream: true, stream_options: { include_usage: true },
});
let text = ''; let finish = null; let usage = null; let role = null;
for await (const chunk of stream) {
  if (chunk.usage) usage = chunk.usage;
  for (const c of chunk.choices) {
    if (c.delta.role) role = c.delta.role;
    if (c.delta.content) text += c.delta.content;
    if (c.finish_reason) finish = c.finish_reason;
  }
}
assert.equal(role, 'assistant');
assert.equal(text, chat.choices[0].message.content, 'streamed text equals the non-streamed answer');
assert.equal(finish, chat.choices[0].finish_reason);
assert.equal(usage.completion_tokens, chat.usage.completion_tokens);

const completion = await client.completions.create({ model, prompt: 'Once upon a time', max_tokens: 8, temperature: 0 });
assert.equal(completion.object, 'text_completion');
assert.equal(completion.usage.completion_tokens, 8);

const stopped = await client.completions.create({ model, prompt: 'Once upon a time', max_tokens: 40, temperature: 0, stop: ['Lily'] });
assert.equal(stopped.choices[0].text, ', there was a little girl named ');
assert.equal(stopped.choices[0].finish_reason, 'stop');

const sampled = { model, messages: [{ role: 'user', content: 'A story.' }], max_tokens: 10, temperature: 1, seed: 7, n: 2, logprobs: true, top_logprobs: 3 };
const s1 = await client.chat.completions.create(sampled);
const s2 = await client.chat.completions.create(sampled);
assert.equal(s1.choices.length, 2);
assert.deepEqual(s1.choices.map((c) => c.message.content), s2.choices.map((c) => c.message.content), 'seeded');
assert.equal(s1.choices[0].logprobs.content[0].top_logprobs.length, 3);

await assert.rejects(
  client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }], temperature: 5 }),
  (err) => err.status === 400 && err.param === 'temperature',
);
await assert.rejects(
  client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] }),
  (err) => err.status === 404 && err.code === 'model_not_found',
);
console.log('openai-node: all checks passed');
