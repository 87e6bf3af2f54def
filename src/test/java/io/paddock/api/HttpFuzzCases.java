package io.paddock.api;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.StringJoiner;

/**
 * The malformed requests of {@link HttpFuzzIT}, category by category: wrong JSON types for every field of every JSON
 * endpoint, number extremes and non-JSON literals, invalid UTF-8, truncated and deeply nested JSON, random byte
 * mutations (seeded), wrong content types, oversized bodies, over-long and badly encoded URLs, bad headers and wrong
 * methods. Every request is complete (all its bytes are sent); each base body asks for at most one token, so a case
 * that happens to be valid stays cheap. About 1,600 requests.
 */
final class HttpFuzzCases {
    private HttpFuzzCases() {}

    /** One request; {@code expectId} is the x-request-id the answer must carry, or null for "one of ours". */
    record Case(String category, String label, byte[] request, String expectId) {
        Case(String category, String label, byte[] request) {
            this(category, label, request, null);
        }
    }

    /** A JSON endpoint, its base body (raw JSON per field) and the fields to fuzz. */
    record Endpoint(String path, Map<String, String> base, List<String> fields) {}

    static final String MESSAGES = "[{\"role\":\"user\",\"content\":\"hi\"}]";

    static final List<Endpoint> ENDPOINTS = List.of(
            new Endpoint("/v1/completions", ordered("prompt", "\"hello\"", "max_tokens", "1"), List.of("model", "prompt",
                    "max_tokens", "temperature", "top_p", "top_k", "min_p", "repetition_penalty", "presence_penalty",
                    "frequency_penalty", "logit_bias", "seed", "stop", "n", "stream", "stream_options", "echo", "logprobs",
                    "best_of", "suffix", "user", "ignore_eos", "unknown_field")),
            // max_completion_tokens wins over max_tokens: fuzzing either leaves the other bounding the answer.
            new Endpoint("/v1/chat/completions", ordered("messages", MESSAGES, "max_tokens", "1",
                    "max_completion_tokens", "1"), List.of("model", "messages", "max_tokens", "max_completion_tokens",
                    "temperature", "top_p", "top_k", "min_p", "repetition_penalty", "presence_penalty", "frequency_penalty",
                    "logit_bias", "seed", "stop", "n", "stream", "stream_options", "logprobs", "top_logprobs", "user",
                    "ignore_eos", "chat_template", "tool_choice", "response_format", "modalities", "tools", "store")),
            new Endpoint("/v1/chat/completions/render", ordered("messages", MESSAGES), List.of("model", "messages",
                    "chat_template")),
            new Endpoint("/tokenize", ordered("prompt", "\"hello\""), List.of("model", "prompt", "messages",
                    "add_special_tokens")),
            new Endpoint("/detokenize", ordered("tokens", "[1,2,3]"), List.of("model", "tokens")));

    /** Raw JSON text put where a field's value goes: wrong types, extremes, and literals JSON does not allow. */
    static final List<String> VALUES = List.of("{}", "[]", "\"text\"", "\"12\"", "true", "null", "0", "-1", "1.5",
            "2147483648", "99999999999999999999999999999999", "1e308", "1e999", "NaN", "Infinity", "01",
            "{\"a\":{\"b\":[]}}", "\"\"", "\"\\ud800\"", "\"" + "x".repeat(4_000) + "\"",
            intArray(5_000), "[{\"role\":\"user\",\"content\":{}}]");

    static List<Case> all(SplittableRandom random) {
        List<Case> cases = new ArrayList<>();
        types(cases, random, 14);
        nested(cases);
        bytes(cases);
        truncated(cases);
        nesting(cases);
        mutations(cases, random, 120);
        contentTypes(cases);
        sizes(cases);
        urls(cases);
        headers(cases);
        return cases;
    }

    /**
     * Every field of every endpoint, each with {@code perField} of the wrong values, drawn by the seed (a run stays
     * well under a minute on a busy machine; runs with other seeds cover the other values).
     */
    static void types(List<Case> out, SplittableRandom random, int perField) {
        for (Endpoint e : ENDPOINTS) {
            for (String field : e.fields()) {
                List<String> values = new ArrayList<>(VALUES);
                for (int i = values.size() - 1; i > 0; i--) java.util.Collections.swap(values, i, random.nextInt(i + 1));
                for (String v : values.subList(0, Math.min(perField, values.size()))) {
                    Map<String, String> body = new LinkedHashMap<>(e.base());
                    body.put(field, v);
                    out.add(post("types", e.path() + " " + field + "=" + cut(v), e.path(), json(body)));
                }
            }
        }
    }

    /** Wrong values one level down: a message's role and content, a content part, a prompt or token list entry. */
    static void nested(List<Case> out) {
        for (String v : VALUES) {
            out.add(post("nested", "messages[0].role=" + cut(v), "/v1/chat/completions",
                    "{\"max_tokens\":1,\"messages\":[{\"role\":" + v + ",\"content\":\"hi\"}]}"));
            out.add(post("nested", "messages[0].content=" + cut(v), "/v1/chat/completions",
                    "{\"max_tokens\":1,\"messages\":[{\"role\":\"user\",\"content\":" + v + "}]}"));
            out.add(post("nested", "messages[0]=" + cut(v), "/tokenize", "{\"messages\":[" + v + "]}"));
            out.add(post("nested", "content part text=" + cut(v), "/v1/chat/completions",
                    "{\"max_tokens\":1,\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":" + v + "}]}]}"));
            out.add(post("nested", "prompt[0]=" + cut(v), "/v1/completions", "{\"max_tokens\":1,\"prompt\":[" + v + "]}"));
            out.add(post("nested", "tokens[0]=" + cut(v), "/detokenize", "{\"tokens\":[" + v + "]}"));
            out.add(post("nested", "logit_bias[1]=" + cut(v), "/v1/completions",
                    "{\"max_tokens\":1,\"prompt\":\"a\",\"logit_bias\":{\"1\":" + v + "}}"));
            out.add(post("nested", "stream_options.include_usage=" + cut(v), "/v1/completions",
                    "{\"max_tokens\":1,\"prompt\":\"a\",\"stream\":true,\"stream_options\":{\"include_usage\":" + v + "}}"));
        }
    }

    /** Invalid UTF-8 in values and in names, on every endpoint. */
    static void bytes(List<Case> out) {
        byte[][] bad = {{(byte) 0xff}, {(byte) 0xc0, (byte) 0xaf}, {(byte) 0xed, (byte) 0xa0, (byte) 0x80},
            {(byte) 0xf8, (byte) 0x88, (byte) 0x80, (byte) 0x80, (byte) 0x80}, {(byte) 0xe2, (byte) 0x82}, {0}};
        for (Endpoint e : ENDPOINTS) {
            for (byte[] b : bad) {
                for (String field : List.of("model", e.fields().get(1))) {
                    byte[] body = concat(("{\"" + field + "\":\"a").getBytes(StandardCharsets.UTF_8), b, "\"}".getBytes(StandardCharsets.UTF_8));
                    out.add(raw("bytes", e.path() + " " + field + " holds " + hex(b), e.path(), body));
                }
                out.add(raw("bytes", e.path() + " name holds " + hex(b), e.path(),
                        concat("{\"".getBytes(StandardCharsets.UTF_8), b, "\":1}".getBytes(StandardCharsets.UTF_8))));
            }
        }
    }

    /** Every prefix of a full body, and bodies that are not an object. */
    static void truncated(List<Case> out) {
        for (Endpoint e : ENDPOINTS) {
            String full = json(e.base());
            for (int i = 0; i < full.length(); i += 2) out.add(post("truncated", e.path() + " first " + i + " chars", e.path(), full.substring(0, i)));
            for (String body : List.of(" ", "null", "[]", "\"x\"", "123", "{} {}", "{}garbage", "{\"prompt\":\"a\",\"prompt\":\"b\"}",
                    "/* c */{}", "\uFEFF" + full, "{\"a\":1,}", "{'prompt':'a'}", "{prompt:\"a\"}", "{\"a\"}", "{:1}", "[" + full + "]")) {
                out.add(post("truncated", e.path() + " body " + cut(body), e.path(), body));
            }
        }
    }

    /** 10,000 levels of arrays and objects, closed and unclosed, as the body and as a field. */
    static void nesting(List<Case> out) {
        int depth = 10_000;
        String arrays = "[".repeat(depth) + "]".repeat(depth);
        String objects = "{\"a\":".repeat(depth) + "1" + "}".repeat(depth);
        for (Endpoint e : ENDPOINTS) {
            String field = e.fields().get(1);
            out.add(post("nesting", e.path() + " body arrays", e.path(), arrays));
            out.add(post("nesting", e.path() + " body objects", e.path(), objects));
            out.add(post("nesting", e.path() + " body unclosed", e.path(), "[".repeat(depth)));
            out.add(post("nesting", e.path() + " " + field + " arrays", e.path(), "{\"" + field + "\":" + arrays + "}"));
            out.add(post("nesting", e.path() + " " + field + " objects", e.path(), "{\"" + field + "\":" + objects + "}"));
        }
    }

    /** Seeded byte edits (replace, insert, delete) of valid bodies. */
    static void mutations(List<Case> out, SplittableRandom random, int count) {
        byte[] alphabet = "{}[]\",:0123456789.eE+-truefalsnl \\u\t\n".getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < count; i++) {
            Endpoint e = ENDPOINTS.get(random.nextInt(ENDPOINTS.size()));
            byte[] m = json(e.base()).getBytes(StandardCharsets.UTF_8);
            int edits = 1 + random.nextInt(4);
            for (int k = 0; k < edits && m.length > 0; k++) {
                int at = random.nextInt(m.length);
                byte with = random.nextInt(4) == 0 ? (byte) random.nextInt(256) : alphabet[random.nextInt(alphabet.length)];
                m = switch (random.nextInt(3)) {
                    case 0 -> { m[at] = with; yield m; }
                    case 1 -> concat(java.util.Arrays.copyOf(m, at), new byte[] {with}, java.util.Arrays.copyOfRange(m, at, m.length));
                    default -> concat(java.util.Arrays.copyOf(m, at), new byte[0], java.util.Arrays.copyOfRange(m, at + 1, m.length));
                };
            }
            out.add(raw("mutation", e.path() + " mutation " + i, e.path(), m));
        }
    }

    static void contentTypes(List<Case> out) {
        List<String> types = List.of("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                "application/json; charset=utf-16", "application/json; charset=nope", "application/json;;;", "*/*",
                "application/*", "application/jsonx", "APPLICATION/JSON", "json", "/", "a/b/c", "\"application/json\"");
        for (Endpoint e : ENDPOINTS) {
            String body = json(e.base());
            out.add(new Case("content-type", e.path() + " no Content-Type", RawHttp.request("POST", e.path(), Map.of(), bytes(body))));
            for (String t : types) {
                out.add(new Case("content-type", e.path() + " Content-Type " + t,
                        RawHttp.request("POST", e.path(), Map.of("Content-Type", t), bytes(body))));
            }
            for (String accept : List.of("image/png", "text/html", "garbage", "*/*;q=abc", "application/json;q=0")) {
                out.add(new Case("content-type", e.path() + " Accept " + accept, RawHttp.request("POST", e.path(),
                        Map.of("Content-Type", "application/json", "Accept", accept), bytes(body))));
            }
        }
        for (String accept : List.of("image/png", "garbage", "text/event-stream")) {
            out.add(new Case("content-type", "GET /v1/models Accept " + accept,
                    RawHttp.request("GET", "/v1/models", Map.of("Accept", accept), null)));
        }
    }

    /** Bodies over the limit (announced or chunked), at it, and lengths that lie. */
    static void sizes(List<Case> out) {
        int limit = 4 * 1024 * 1024;
        String over = "{\"prompt\":\"" + "a".repeat(limit + 10) + "\"}";
        out.add(post("size", "announced over the limit", "/v1/completions", over));
        out.add(new Case("size", "chunked over the limit", RawHttp.request("POST", "/v1/completions",
                Map.of("Content-Type", "application/json", "Transfer-Encoding", "chunked"), chunked(bytes(over), 65536))));
        out.add(post("size", "whitespace up to the limit", "/tokenize", " ".repeat(limit - 2) + "{}"));
        out.add(post("size", "a 100KB prompt", "/tokenize", "{\"prompt\":\"" + "word ".repeat(20_000) + "\"}"));
        out.add(new Case("size", "Content-Length 99999999999", RawHttp.request("POST", "/v1/completions",
                Map.of("Content-Type", "application/json", "Content-Length", "99999999999"), bytes("{}"))));
        out.add(new Case("size", "Content-Length -1", RawHttp.request("POST", "/v1/completions",
                Map.of("Content-Type", "application/json", "Content-Length", "-1"), bytes("{}"))));
        out.add(new Case("size", "Content-Length twice", RawHttp.request("POST", "/v1/completions",
                Map.of("Content-Type", "application/json", "Content-Length", "2\r\nContent-Length: 3"), bytes("{}"))));
        out.add(new Case("size", "bad chunk size", RawHttp.request("POST", "/tokenize",
                Map.of("Content-Type", "application/json", "Transfer-Encoding", "chunked"), bytes("zz\r\n{}\r\n0\r\n\r\n"))));
    }

    static void urls(List<Case> out) {
        List<String> targets = new ArrayList<>(List.of("/v1/%", "/v1/%z", "/v1/%zz", "/v1/models/%ff", "/v1/models/%00",
                "/v1/models/%2F", "/v1/models/..%2F..%2Fetc%2Fpasswd", "/v1/models/%C3%A9", "/v1/models/\u00e9",
                "/v1/models?x=%", "/v1/models?%zz=1", "/%%%", "*", "v1/models", "//v1/models", "/v1/models#frag",
                "/v1/models/{}", "/v1/models/a|b", "/v1/models/a\tb", "/v1/models/a b", "/v1/models/\u0001", "/../../",
                "/v1/models/" + "%41".repeat(1000), "http://localhost/v1/models", "http://x:99999/v1/models",
                "/v1/models/" + "a".repeat(4060), "/v1/models/" + "a".repeat(4090), "/v1/models/" + "a".repeat(10_000),
                "/v1/models?" + "q=1&".repeat(30_000), "/nope", "/v1", "/v1/models/", "/actuator/nope", "/health/x"));
        for (String t : targets) {
            out.add(new Case("url", "GET " + cut(t), RawHttp.request("GET", t, Map.of(), null)));
        }
        for (String path : List.of("/v1/completions", "/v1/chat/completions", "/tokenize", "/v1/models", "/health", "/ready")) {
            for (String method : List.of("GET", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "FOO", "POST")) {
                out.add(new Case("method", method + " " + path, RawHttp.request(method, path,
                        Map.of("Content-Type", "application/json"), bytes("{}"))));
            }
        }
    }

    static void headers(List<Case> out) {
        out.add(get("header", "a 7,000-byte header", Map.of("X-Big", "a".repeat(7_000))));
        out.add(get("header", "a 9,000-byte header", Map.of("X-Big", "a".repeat(9_000))));
        out.add(get("header", "a 100,000-byte header", Map.of("X-Big", "a".repeat(100_000))));
        StringJoiner many = new StringJoiner("\r\n");
        for (int i = 0; i < 2_000; i++) many.add("X-H" + i + ": v");
        out.add(get("header", "2,000 headers", Map.of("X-First", "1\r\n" + many)));
        out.add(get("header", "a space in a name", Map.of("Bad Header", "x")));
        out.add(get("header", "a control character in a name", Map.of("X-\u0001", "y")));
        out.add(get("header", "NUL in a value", Map.of("X-A", "a\u0000b")));
        out.add(get("header", "an obsolete folded line", Map.of("X-A", "a\r\n b")));
        out.add(get("header", "a line without a colon", Map.of("X-A", "a\r\nnocolon")));
        out.add(get("header", "Host with a bad port", Map.of("Host", "localhost:99999")));
        out.add(get("header", "Host with letters for a port", Map.of("Host", "localhost:http")));
        out.add(get("header", "a second Host", Map.of("X-A", "a\r\nHost: other")));
        out.add(new Case("request-id", "a sane id is echoed", get("", "", Map.of("x-request-id", "trace-0123_abc.XYZ")).request(),
                "trace-0123_abc.XYZ"));
        String longest = "i".repeat(RequestIds.MAX_LENGTH);
        out.add(new Case("request-id", "128 characters are echoed", get("", "", Map.of("x-request-id", longest)).request(), longest));
        for (String bad : List.of("i".repeat(129), "has space", "", "caf\u00e9", "tab\there", "a\u0001b")) {
            out.add(get("request-id", "replaced: " + cut(bad), Map.of("x-request-id", bad)));
        }
        out.add(get("request-id", "two ids, replaced", Map.of("x-request-id", "one\r\nx-request-id: two")));
        out.add(new Case("request-id", "an error echoes the id", RawHttp.request("POST", "/tokenize",
                Map.of("Content-Type", "application/json", "x-request-id", "err-1"), bytes("{\"model\":{}}")), "err-1"));
        out.add(new Case("request-id", "a refused request echoes the id", RawHttp.request("GET", "/v1/%zz",
                Map.of("x-request-id", "bad-uri-1"), null), "bad-uri-1"));
    }

    private static Case get(String category, String label, Map<String, String> headers) {
        return new Case(category, label, RawHttp.request("GET", "/v1/models", headers, null));
    }

    private static Case post(String category, String label, String path, String body) {
        return raw(category, label, path, bytes(body));
    }

    private static Case raw(String category, String label, String path, byte[] body) {
        return new Case(category, label, RawHttp.request("POST", path, Map.of("Content-Type", "application/json"), body));
    }

    static String json(Map<String, String> fields) {
        StringJoiner j = new StringJoiner(",", "{", "}");
        fields.forEach((k, v) -> j.add("\"" + k + "\":" + v));
        return j.toString();
    }

    private static Map<String, String> ordered(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put(kv[i], kv[i + 1]);
        return m;
    }

    private static String intArray(int n) {
        StringJoiner j = new StringJoiner(",", "[", "]");
        for (int i = 0; i < n; i++) j.add(Integer.toString(i % 100));
        return j.toString();
    }

    static byte[] chunked(byte[] body, int size) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int at = 0; at < body.length; at += size) {
            int n = Math.min(size, body.length - at);
            out.writeBytes((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(body, at, n);
            out.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        out.writeBytes("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        return out.toByteArray();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) out.writeBytes(p);
        return out.toByteArray();
    }

    private static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (byte x : b) sb.append(String.format("%02x", x & 0xff));
        return sb.toString();
    }

    static String cut(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "...(" + s.length() + ")";
    }
}
