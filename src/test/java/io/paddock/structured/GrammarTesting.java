package io.paddock.structured;

import java.nio.charset.StandardCharsets;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Feeds text to grammars byte by byte, for the tests. */
final class GrammarTesting {
    private GrammarTesting() {}

    static JsonNode json(String text) {
        return JsonMapper.shared().readTree(text);
    }

    static Grammar schema(String text) {
        return Grammars.jsonSchema(json(text));
    }

    /** The index of the first byte the grammar refuses, or -1 when it reads every byte. */
    static int rejectsAt(Grammar g, String text) {
        return rejectsAt(g, text.getBytes(StandardCharsets.UTF_8));
    }

    static int rejectsAt(Grammar g, byte[] bytes) {
        GrammarState s = g.start();
        for (int i = 0; i < bytes.length; i++) {
            s = s.advance(bytes[i] & 0xFF);
            if (s == null) return i;
        }
        return -1;
    }

    /** The state after the text, or null when some byte is refused. */
    static GrammarState run(Grammar g, String text) {
        return run(g, text.getBytes(StandardCharsets.UTF_8));
    }

    static GrammarState run(Grammar g, byte[] bytes) {
        GrammarState s = g.start();
        for (byte b : bytes) {
            s = s.advance(b & 0xFF);
            if (s == null) return null;
        }
        return s;
    }

    /** The whole text is a complete output. */
    static boolean matches(Grammar g, String text) {
        GrammarState s = run(g, text);
        return s != null && s.isAccepting();
    }

    static boolean matches(Grammar g, byte[] bytes) {
        GrammarState s = run(g, bytes);
        return s != null && s.isAccepting();
    }

    static byte[] bytes(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < b.length; i++) b[i] = (byte) values[i];
        return b;
    }
}
