package io.paddock.structured;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;
import tools.jackson.databind.JsonNode;

/**
 * Builds {@link Grammar}s: from a JSON Schema, for any JSON object, and by combining smaller grammars.
 *
 * <p>Whitespace before the top-level value and between two JSON tokens is nothing, one space, or a line feed and
 * at most {@value Lexemes#MAX_INDENT} spaces or tabs (llama.cpp's bound for its JSON grammars); nothing may follow the closing byte of the top-level value, so a finished object
 * is a terminal state. Numbers have at most {@value Lexemes#MAX_INT_DIGITS} integer digits,
 * {@value Lexemes#MAX_FRACTION_DIGITS} fraction digits and {@value Lexemes#MAX_EXPONENT_DIGITS} exponent digits.
 * Strings are any valid UTF-8 (no raw control characters, no lone surrogates in escapes). See
 * {@code docs/structured-output.md} for the supported schema keywords.
 */
public final class Grammars {
    /** Compiled schemas kept for reuse, so that requests with the same schema share one grammar and its masks. */
    static final int SCHEMA_CACHE_SIZE = 32;
    private static final Map<String, Grammar> SCHEMAS = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Grammar> eldest) {
            return size() > SCHEMA_CACHE_SIZE;
        }
    };
    private static final Grammar ANY_OBJECT =
            new CompiledGrammar(new Node.Seq(Node.Ws.INSTANCE, JsonNodes.ANY_OBJECT), "json_object");
    private static final Grammar ANY =
            new CompiledGrammar(new Node.Seq(Node.Ws.INSTANCE, JsonNodes.ANY), "json");

    private Grammars() {}

    /**
     * JSON text valid against {@code schema} (the supported subset of JSON Schema; properties in declaration
     * order). The last {@value #SCHEMA_CACHE_SIZE} compiled schemas are kept: the same schema (as JSON text) gives
     * the same grammar, whose token masks are then shared by every request that uses it.
     *
     * @throws SchemaException naming the keyword and its JSON pointer when the schema uses what is not supported
     */
    public static Grammar jsonSchema(JsonNode schema) {
        return jsonSchema(schema, true);
    }

    /**
     * As {@link #jsonSchema(JsonNode)}; a non-strict schema may also use the assertions generation cannot enforce
     * (numeric bounds, {@code pattern}, {@code uniqueItems}, {@code minProperties}/{@code maxProperties}), which are
     * then accepted and not enforced, as OpenAI's non-strict mode promises no more than best effort.
     */
    public static Grammar jsonSchema(JsonNode schema, boolean strict) {
        if (schema == null) throw new SchemaException("", "#", "no schema given");
        String key = (strict ? "strict:" : "lenient:") + schema;
        synchronized (SCHEMAS) {
            Grammar known = SCHEMAS.get(key);
            if (known != null) return known;
        }
        Grammar g = compileSchema(schema, strict);
        synchronized (SCHEMAS) {
            Grammar raced = SCHEMAS.putIfAbsent(key, g);
            return raced != null ? raced : g;
        }
    }

    /** As {@link #jsonSchema}, always compiling a new grammar (with its own, empty mask caches). */
    public static Grammar compileSchema(JsonNode schema) {
        return compileSchema(schema, true);
    }

    /** As {@link #jsonSchema(JsonNode, boolean)}, always compiling a new grammar. */
    public static Grammar compileSchema(JsonNode schema, boolean strict) {
        Node value = SchemaCompiler.compile(schema, strict);
        JsonNode title = schema.get("title");
        String name = title != null && title.isString() ? "json_schema(" + title.stringValue() + ")" : "json_schema";
        return new CompiledGrammar(new Node.Seq(Node.Ws.INSTANCE, value), name);
    }

    /** Any JSON object (OpenAI's {@code json_object} response format); one shared instance. */
    public static Grammar anyJsonObject() {
        return ANY_OBJECT;
    }

    /** Any JSON value; one shared instance. */
    public static Grammar anyJson() {
        return ANY;
    }

    /** Exactly {@code text}. */
    public static Grammar literal(String text) {
        Objects.requireNonNull(text, "text");
        return new CompiledGrammar(new Node.Lit(text), "literal(" + JsonNodes.quote(text) + ")");
    }

    /** The grammars one after another. */
    public static Grammar sequence(Grammar... parts) {
        return new CompiledGrammar(new Node.Seq(nodes(parts)), "sequence(" + describe(parts) + ")");
    }

    /** Any one of the grammars; where several match the same bytes, all of them are followed. */
    public static Grammar choice(Grammar... options) {
        if (options.length == 0) throw new IllegalArgumentException("choice needs at least one option");
        return new CompiledGrammar(new Node.Alt(nodes(options)), "choice(" + describe(options) + ")");
    }

    /**
     * {@code item (separator item)*}, from {@code min} to {@code max} items ({@code max} -1: unbounded).
     *
     * @param separator between items; null or empty for none
     */
    public static Grammar repeat(Grammar item, String separator, int min, int max) {
        if (min < 0) throw new IllegalArgumentException("repeat: min must be >= 0, got " + min);
        if (max < -1 || (max >= 0 && max < min)) {
            throw new IllegalArgumentException("repeat: max must be -1 (unbounded) or >= min " + min + ", got " + max);
        }
        Node itemNode = node(item);
        Node sep = separator == null || separator.isEmpty() ? null : new Node.Lit(separator);
        if (max < 0 && sep == null && nullable(itemNode, new IdentityHashMap<>())) {
            throw new IllegalArgumentException("repeat: an unbounded repeat of " + item.describe()
                    + ", which can match nothing, without a separator would never end");
        }
        Node body = max == 0 ? Node.Empty.INSTANCE : new Node.Rep(itemNode, sep, Math.max(min, 1), max);
        Node root = min == 0 && max != 0 ? new Node.Alt(Node.Empty.INSTANCE, body) : body;
        return new CompiledGrammar(root, "repeat(" + item.describe() + ", " + min + ".." + (max < 0 ? "" : max) + ")");
    }

    /**
     * Free text, or a marker followed by a structured part: how {@code tool_choice: auto} works. The output is
     * either any valid UTF-8 text that does not start with {@code trigger} once leading whitespace (space, tab,
     * CR, LF) is skipped, or that whitespace, then {@code trigger}, then text of {@code then}. A text that is a
     * proper prefix of the trigger (e.g. {@code "<tool"}) is free text and may end there.
     */
    public static Grammar freeTextOr(String trigger, Grammar then) {
        if (trigger == null || trigger.isEmpty()) throw new IllegalArgumentException("freeTextOr needs a non-empty trigger");
        Node.FreeOr node = new Node.FreeOr(trigger.getBytes(StandardCharsets.UTF_8), node(then));
        return new CompiledGrammar(node, "free_text_or(" + JsonNodes.quote(trigger) + ", " + then.describe() + ")");
    }

    private static Node node(Grammar g) {
        Objects.requireNonNull(g, "grammar");
        return g instanceof CompiledGrammar c ? c.root : new Node.Ext(g);
    }

    private static Node[] nodes(Grammar[] gs) {
        return Arrays.stream(gs).map(Grammars::node).toArray(Node[]::new);
    }

    private static String describe(Grammar[] gs) {
        return Arrays.stream(gs).map(Grammar::describe).collect(Collectors.joining(", "));
    }

    /** Whether {@code n} can match the empty text (refs on a cycle count as not nullable). */
    static boolean nullable(Node n, Map<Node, Boolean> seen) {
        Boolean known = seen.get(n);
        if (known != null) return known;
        seen.put(n, false);
        boolean r = switch (n) {
            case Node.Empty e -> true;
            case Node.Lit l -> l.bytes.length == 0;
            case Node.Seq s -> Arrays.stream(s.items).allMatch(i -> nullable(i, seen));
            case Node.Alt a -> Arrays.stream(a.options).anyMatch(o -> nullable(o, seen));
            case Node.Rep rep -> rep.min == 0 || nullable(rep.item, seen);
            case Node.Ref ref -> nullable(ref.target, seen);
            case Node.Ws w -> true;
            case Node.ByteClass c -> false;
            case Node.Str s -> false;
            case Node.Num num -> false;
            case Node.FreeOr f -> true;
            case Node.Ext x -> x.grammar.start().isAccepting();
        };
        seen.put(n, r);
        return r;
    }
}
