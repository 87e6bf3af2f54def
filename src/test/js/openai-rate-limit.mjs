// The official `openai` npm client against a paddock that requires API keys, with a key allowed one request per
// (test-shortened) window: 401s, the 429 it raises, and its automatic retry honouring Retry-After.
// Usage: node openai-rate-limit.mjs http://localhost:PORT/v1 MODEL KEY
import OpenAI from 'openai';
import assert from 'node:assert/strict';

const [baseURL, model, apiKey] = process.argv.slice(2);
const request = { model, prompt: 'Once upon a time', max_tokens: 4 };

await assert.rejects(
  new OpenAI({ baseURL, apiKey: 'sk-wrong', maxRetries: 0 }).completions.create(request),
  (err) => err instanceof OpenAI.AuthenticationError && err.status === 401 && err.code === 'invalid_api_key'
    && err.type === 'invalid_request_error' && !err.message.includes('sk-wrong'),
);

const noRetry = new OpenAI({ baseURL, apiKey, maxRetries: 0 });
// The first request of a window may itself meet the previous window's spent permit: retry it like a client would.
const { data: first, response } = await new OpenAI({ baseURL, apiKey }).completions.create(request).withResponse();
assert.equal(first.object, 'text_completion');
for (const h of ['limit', 'remaining', 'reset']) assert.ok(response.headers.get(`x-ratelimit-${h}-requests`), h);
assert.equal(response.headers.get('x-ratelimit-limit-requests'), '1');

// Every keyed request counts: spend the window's one permit (the window may roll over between two calls on a slow
// machine, so call until the 429 comes) and check the error the SDK raises.
async function spendTheWindow() {
  for (let i = 0; i < 10; i++) {
    try {
      await noRetry.models.list();
    } catch (err) {
      assert.ok(err instanceof OpenAI.RateLimitError, String(err));
      assert.equal(err.status, 429);
      assert.equal(err.type, 'requests');
      assert.equal(err.code, 'rate_limit_exceeded');
      assert.ok(Number(err.headers.get('retry-after')) >= 1, 'Retry-After');
      assert.match(err.message, /'node'/);
      return;
    }
  }
  assert.fail('no 429 after 10 requests with a limit of 1 per window');
}

// Default client (two retries): its first try meets the 429, it waits Retry-After, and the next window admits it.
// A fetch wrapper records what the SDK saw.
for (let attempt = 0; ; attempt++) {
  await spendTheWindow();
  const statuses = [];
  const counting = async (url, init) => {
    const res = await fetch(url, init);
    statuses.push(res.status);
    return res;
  };
  const started = Date.now();
  const retried = await new OpenAI({ baseURL, apiKey, fetch: counting }).completions.create(request);
  assert.equal(retried.object, 'text_completion');
  assert.equal(statuses.at(-1), 200);
  if (statuses.includes(429)) {
    console.log(`openai-node: retried after a 429 (${statuses.join(' -> ')}), ${Date.now() - started} ms`);
    break;
  }
  assert.ok(attempt < 3, 'the window rolled over before every retry test: ' + statuses.join(' -> '));
}
console.log('openai-node rate limits: all checks passed');
