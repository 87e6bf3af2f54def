package io.paddock.structured;

import java.util.List;

/** Builds the grammar nodes of JSON values: objects with ordered properties, arrays, any value. */
final class JsonNodes {
    static final Node.Lit OPEN_BRACE = new Node.Lit("{");
    static final Node.Lit CLOSE_BRACE = new Node.Lit("}");
    static final Node.Lit OPEN_BRACKET = new Node.Lit("[");
    static final Node.Lit CLOSE_BRACKET = new Node.Lit("]");
    static final Node.Lit COLON = new Node.Lit(":");
    static final Node.Lit TRUE = new Node.Lit("true");
    static final Node.Lit FALSE = new Node.Lit("false");
    static final Node.Lit NULL = new Node.Lit("null");
    static final Node BOOLEAN = new Node.Alt(TRUE, FALSE);
    static final Node.Str STRING = new Node.Str(0, -1, null);
    static final Node.Num NUMBER = new Node.Num(false);
    static final Node.Num INTEGER = new Node.Num(true);
    /** {@code ws "," ws}: between members and items. */
    static final Node SEPARATOR = new Node.Seq(Node.Ws.INSTANCE, new Node.Lit(","), Node.Ws.INSTANCE);
    /** A JSON string holding a UUID: 8-4-4-4-12 hexadecimal digits, either case. */
    static final Node UUID;
    /** Any JSON value. */
    static final Node ANY;
    /** Any JSON object. */
    static final Node ANY_OBJECT;

    static {
        Node hex = new Node.ByteClass("0123456789abcdefABCDEF");
        Node.Lit dash = new Node.Lit("-");
        java.util.List<Node> parts = new java.util.ArrayList<>();
        parts.add(new Node.Lit("\""));
        int[] groups = {8, 4, 4, 4, 12};
        for (int g = 0; g < groups.length; g++) {
            if (g > 0) parts.add(dash);
            for (int i = 0; i < groups[g]; i++) parts.add(hex);
        }
        parts.add(new Node.Lit("\""));
        UUID = new Node.Seq(parts.toArray(Node[]::new));
        Node.Ref any = new Node.Ref("any");
        ANY_OBJECT = object(List.of(), any);
        any.target = new Node.Alt(ANY_OBJECT, array(any, 0, -1), STRING, NUMBER, TRUE, FALSE, NULL);
        ANY = any;
    }

    private JsonNodes() {}

    /** A declared property: its name, the grammar of its value, and whether it must appear. */
    record Property(String name, Node value, boolean required) {}

    /**
     * An object whose declared properties come in declaration order (required ones always, optional ones
     * possibly omitted), then, when {@code extraValue} is not null, any number of other keys with such values.
     */
    static Node object(List<Property> props, Node extraValue) {
        int n = props.size();
        Node[][] tails = new Node[n + 1][2]; // [i][first ? 1 : 0]: members i.. and the closing whitespace
        String[] names = props.stream().map(Property::name).toArray(String[]::new);
        for (int f = 0; f < 2; f++) tails[n][f] = extrasTail(names, extraValue, f == 1);
        for (int i = n - 1; i >= 0; i--) {
            Property p = props.get(i);
            Node member = new Node.Seq(new Node.Lit(quote(p.name())), Node.Ws.INSTANCE, COLON, Node.Ws.INSTANCE,
                    p.value());
            for (int f = 0; f < 2; f++) {
                boolean first = f == 1;
                Node take = first
                        ? new Node.Seq(member, tails[i + 1][0])
                        : new Node.Seq(SEPARATOR, member, tails[i + 1][0]);
                tails[i][f] = p.required() ? take : new Node.Alt(take, tails[i + 1][f]);
            }
        }
        return new Node.Seq(OPEN_BRACE, Node.Ws.INSTANCE, tails[0][1], CLOSE_BRACE);
    }

    private static Node extrasTail(String[] declared, Node extraValue, boolean first) {
        if (extraValue == null) return first ? Node.Empty.INSTANCE : Node.Ws.INSTANCE;
        Node key = new Node.Str(0, -1, declared);
        Node member = new Node.Seq(key, Node.Ws.INSTANCE, COLON, Node.Ws.INSTANCE, extraValue);
        Node more = new Node.Rep(new Node.Seq(SEPARATOR, member), null, 0, -1);
        if (first) return new Node.Alt(Node.Empty.INSTANCE, new Node.Seq(member, more, Node.Ws.INSTANCE));
        return new Node.Seq(more, Node.Ws.INSTANCE);
    }

    /** An array of {@code min}..{@code max} items ({@code max} -1: unbounded). */
    static Node array(Node item, int min, int max) {
        if (max == 0) return new Node.Seq(OPEN_BRACKET, Node.Ws.INSTANCE, CLOSE_BRACKET);
        Node body = new Node.Seq(new Node.Rep(item, SEPARATOR, Math.max(min, 1), max), Node.Ws.INSTANCE);
        Node inner = min == 0 ? new Node.Alt(Node.Empty.INSTANCE, body) : body;
        return new Node.Seq(OPEN_BRACKET, Node.Ws.INSTANCE, inner, CLOSE_BRACKET);
    }

    /** The JSON string literal of {@code s}, as a JSON serializer writes it. */
    static String quote(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        return sb.append('"').toString();
    }
}
