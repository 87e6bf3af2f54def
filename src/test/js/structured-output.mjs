// Structured outputs and tool calling through the official `openai` npm client, against a running paddock; exits
// non-zero on any mismatch. The model is meaningless: only the constraint makes the output valid, so the checks are
// on structure (keys, JSON types, finish reasons, ids), never on content.
// A random model almost never closes a JSON string or stops after a call of its own accord, so the requests nudge it
// with logit_bias on `"` and EOS (StructuredOutputClientsIT says why); the constraint still decides what is valid.
// Usage: node structured-output.mjs http://localhost:PORT/v1 MODEL MAX_TOKENS QUOTE_ID:BIAS EOS_ID:BIAS
import OpenAI from 'openai';
import assert from 'node:assert/strict';

const [baseURL, model, maxTokensArg, quoteArg, eosArg] = process.argv.slice(2);
const max_tokens = Number(maxTokensArg ?? 400);
const entry = (arg) => Object.fromEntries(arg ? [arg.split(':')] : []);
const closeStrings = entry(quoteArg);
const closeStringsAndStop = { ...closeStrings, ...entry(eosArg) };
const client = new OpenAI({ baseURL, apiKey: 'not-needed', maxRetries: 0 });
const show = (x) => JSON.stringify(x);

// ---- chat.completions.parse() with a plain strict JSON schema -----------------------------------------------------
const schema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    count: { type: 'integer' },
    ok: { type: 'boolean' },
    color: { type: 'string', enum: ['red', 'green', 'blue'] },
    size: { type: 'object', properties: { w: { type: 'number' }, h: { type: 'integer' } }, required: ['w', 'h'], additionalProperties: false },
    flags: { type: 'array', items: { type: 'boolean' } },
  },
  required: ['name', 'count', 'ok', 'color', 'size', 'flags'],
  additionalProperties: false,
};
for (const seed of [1, 2, 3]) {
  const parsed = await client.chat.completions.parse({
    model, messages: [{ role: 'user', content: 'Describe a box.' }], max_tokens, temperature: 1, seed, logit_bias: closeStrings,
    response_format: { type: 'json_schema', json_schema: { name: 'box', strict: true, schema } },
  });
  const choice = parsed.choices[0];
  assert.equal(choice.finish_reason, 'stop', `seed ${seed}: ${show(choice)}`);
  const box = choice.message.parsed;
  assert.equal(typeof box, 'object', `seed ${seed}: parsed ${show(choice.message)}`);
  assert.notEqual(box, null);
  assert.deepEqual(Object.keys(box).sort(), ['color', 'count', 'flags', 'name', 'ok', 'size'], show(box));
  assert.equal(typeof box.name, 'string', show(box));
  assert.ok(Number.isInteger(box.count), `count is an integer: ${show(box)}`);
  assert.equal(typeof box.ok, 'boolean', show(box));
  assert.ok(['red', 'green', 'blue'].includes(box.color), show(box));
  assert.deepEqual(Object.keys(box.size).sort(), ['h', 'w'], show(box));
  assert.equal(typeof box.size.w, 'number', show(box));
  assert.ok(Number.isInteger(box.size.h), show(box));
  assert.ok(Array.isArray(box.flags) && box.flags.every((f) => typeof f === 'boolean'), show(box));
  assert.deepEqual(JSON.parse(choice.message.content), box);
}

// ---- streamed tool calls, assembled by the stream helpers ---------------------------------------------------------
const weather = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'The forecast for a city',
    strict: true,
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' }, days: { type: 'integer' }, metric: { type: 'boolean' } },
      required: ['city', 'days', 'metric'],
      additionalProperties: false,
    },
  },
};
const checkWeatherArgs = (args, where) => {
  assert.deepEqual(Object.keys(args).sort(), ['city', 'days', 'metric'], `${where}: ${show(args)}`);
  assert.equal(typeof args.city, 'string', `${where}: ${show(args)}`);
  assert.ok(Number.isInteger(args.days), `${where}: days is an integer: ${show(args)}`);
  assert.equal(typeof args.metric, 'boolean', `${where}: ${show(args)}`);
};

for (const tool_choice of ['required', { type: 'function', function: { name: 'get_weather' } }]) {
  const stream = client.chat.completions.stream({
    model, messages: [{ role: 'user', content: 'Weather in Paris?' }], max_tokens, temperature: 1, seed: 5,
    logit_bias: closeStringsAndStop, tools: [weather], tool_choice, stream: true,
  });
  const chunkToolCalls = [];
  const deltas = [];
  const dones = [];
  stream.on('chunk', (chunk) => {
    for (const c of chunk.choices) for (const tc of c.delta.tool_calls ?? []) chunkToolCalls.push(tc);
  });
  stream.on('tool_calls.function.arguments.delta', (e) => deltas.push(e));
  stream.on('tool_calls.function.arguments.done', (e) => dones.push(e));
  const final = await stream.finalChatCompletion();
  const where = `tool_choice ${show(tool_choice)}`;
  const choice = final.choices[0];
  // "required" ends with "tool_calls"; OpenAI itself ends a call forced by name with "stop", so either is right there
  assert.ok(tool_choice === 'required' ? choice.finish_reason === 'tool_calls' : ['tool_calls', 'stop'].includes(choice.finish_reason),
    `${where}: finish_reason ${show(choice)}`);
  // parallel_tool_calls is left at its default (true): one call or several, each a whole get_weather call
  const calls = choice.message.tool_calls;
  assert.ok(calls?.length >= 1, `${where}: ${show(choice.message)}`);
  calls.forEach((call, i) => {
    assert.equal(call.type, 'function');
    assert.ok(typeof call.id === 'string' && call.id.length > 0, `${where}: id ${show(call)}`);
    assert.equal(call.function.name, 'get_weather');
    const args = JSON.parse(call.function.arguments);
    checkWeatherArgs(args, `${where} call ${i}`);
    assert.deepEqual(call.function.parsed_arguments, args, `${where}: strict tools are parsed by the helper`);

    // the wire: the first delta of call i carries its id, type and name, the rest only arguments
    const own = chunkToolCalls.filter((tc) => tc.index === i);
    assert.ok(own.length >= 1, `${where}: no delta.tool_calls with index ${i}: ${show(chunkToolCalls)}`);
    assert.equal(own[0].id, call.id);
    assert.equal(own[0].type, 'function');
    assert.equal(own[0].function.name, 'get_weather');
    assert.ok(own.slice(1).every((tc) => tc.id == null && tc.function?.name == null),
      `${where}: id and name only in the first delta: ${show(own)}`);
    assert.equal(own.map((tc) => tc.function?.arguments ?? '').join(''), call.function.arguments);

    // the helper's own events: the argument deltas add up to the final arguments, and one done event carries them
    const ownDeltas = deltas.filter((d) => d.index === i);
    assert.ok(ownDeltas.length >= 1, `${where}: no tool_calls.function.arguments.delta event for call ${i}`);
    assert.equal(ownDeltas.map((d) => d.arguments_delta).join(''), call.function.arguments, `${where}: deltas`);
    assert.ok(ownDeltas.every((d) => d.name === 'get_weather'), `${where}: ${show(ownDeltas)}`);
    const ownDones = dones.filter((d) => d.index === i);
    assert.equal(ownDones.length, 1, `${where}: one done event for call ${i}: ${show(dones)}`);
    assert.equal(ownDones[0].arguments, call.function.arguments);
    assert.deepEqual(ownDones[0].parsed_arguments, args);
  });
  assert.equal(new Set(calls.map((c) => c.id)).size, calls.length, `${where}: distinct ids: ${show(calls)}`);
  assert.ok(chunkToolCalls.every((tc) => Number.isInteger(tc.index) && tc.index < calls.length),
    `${where}: every tool_calls delta has the index of its call: ${show(chunkToolCalls)}`);
}

// ---- non-streaming: two tools, "required", parallel_tool_calls false: exactly one call -----------------------------
const add = {
  type: 'function',
  function: {
    name: 'add',
    parameters: {
      type: 'object',
      properties: { a: { type: 'integer' }, b: { type: 'integer' } },
      required: ['a', 'b'],
      additionalProperties: false,
    },
  },
};
for (const seed of [1, 2, 3]) {
  const one = await client.chat.completions.create({
    model, messages: [{ role: 'user', content: 'Add 2 and 3, or tell me the weather.' }], max_tokens, temperature: 1,
    seed, logit_bias: closeStrings, tools: [weather, add], tool_choice: 'required', parallel_tool_calls: false,
  });
  const choice = one.choices[0];
  assert.equal(choice.finish_reason, 'tool_calls', `seed ${seed}: ${show(choice)}`);
  assert.equal(choice.message.content, null, `seed ${seed}: content beside tool calls is null, as OpenAI's`);
  assert.equal(choice.message.tool_calls.length, 1, `seed ${seed}: ${show(choice.message)}`);
  const call = choice.message.tool_calls[0];
  assert.equal(call.type, 'function');
  assert.ok(['get_weather', 'add'].includes(call.function.name), show(call));
  const args = JSON.parse(call.function.arguments);
  if (call.function.name === 'add') {
    assert.deepEqual(Object.keys(args).sort(), ['a', 'b'], show(args));
    assert.ok(Number.isInteger(args.a) && Number.isInteger(args.b), show(args));
  } else {
    checkWeatherArgs(args, `seed ${seed}`);
  }
}

// ---- the deprecated functions / function_call: the answer is message.function_call -------------------------------
const legacy = await client.chat.completions.create({
  model, messages: [{ role: 'user', content: 'Add 2 and 3.' }], max_tokens, temperature: 1, seed: 4,
  functions: [add.function], function_call: { name: 'add' },
});
{
  const choice = legacy.choices[0];
  // OpenAI answers a call forced by name with "stop" ("function_call" where the model chose to call)
  assert.ok(['function_call', 'stop'].includes(choice.finish_reason), `functions: ${show(choice)}`);
  assert.ok(choice.message.tool_calls == null, `functions: answered as function_call only: ${show(choice.message)}`);
  assert.equal(choice.message.function_call?.name, 'add', `functions: ${show(choice.message)}`);
  const args = JSON.parse(choice.message.function_call.arguments);
  assert.deepEqual(Object.keys(args).sort(), ['a', 'b'], show(args));
  assert.ok(Number.isInteger(args.a) && Number.isInteger(args.b), show(args));
}

// ---- mistakes: a 400 through the client ----------------------------------------------------------------------------
await assert.rejects(
  client.chat.completions.create({
    model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 4,
    response_format: { type: 'json_schema', json_schema: { name: 'bad', strict: true, schema: { type: 'object', patternProperties: { '^x': { type: 'string' } } } } },
  }),
  (err) => err.status === 400 && /patternProperties/.test(err.message),
);
await assert.rejects(
  client.chat.completions.create({
    model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 4, tools: [add],
    tool_choice: { type: 'function', function: { name: 'subtract' } },
  }),
  (err) => err.status === 400 && /subtract/.test(err.message),
);
console.log('structured-output: all checks passed');
