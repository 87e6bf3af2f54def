package io.paddock.testing;

import java.util.SplittableRandom;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/** Seeded random JSON schemas from the subset structured output supports, for property tests. */
public final class RandomSchemas {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static final String[] NAMES = {"id", "name", "a", "b", "tags", "x y", "ключ", "q\"uote", "nested", "ab"};

    private RandomSchemas() {}

    /** A random schema of the supported subset: nested objects, arrays, enums, anyOf, $defs/$ref, nullable types. */
    public static JsonNode randomSchema(SplittableRandom r) {
        int defs = r.nextInt(3);
        Gen gen = new Gen(r, defs);
        ObjectNode root = r.nextInt(4) == 0 ? gen.any(3) : gen.object(3);
        if (defs > 0) {
            ObjectNode d = root.putObject(r.nextBoolean() ? "$defs" : "definitions");
            for (int i = 0; i < defs; i++) d.set("d" + i, gen.def(i));
            if (root.has("definitions")) gen.renameRefs(root, "#/$defs/", "#/definitions/");
        }
        return root;
    }

    private static final class Gen {
        final SplittableRandom r;
        final int defs;

        Gen(SplittableRandom r, int defs) {
            this.r = r;
            this.defs = defs;
        }

        ObjectNode any(int depth) {
            int k = r.nextInt(depth <= 0 ? 7 : 12);
            ObjectNode s = F.objectNode();
            switch (k) {
                case 0 -> {
                    s.put("type", "string");
                    if (r.nextInt(8) == 0) {
                        s.put("format", r.nextBoolean() ? "uuid" : "date-time");
                    } else if (r.nextInt(3) == 0) {
                        int min = r.nextInt(4);
                        s.put("minLength", min);
                        s.put("maxLength", min + r.nextInt(6));
                    }
                }
                case 1 -> s.put("type", "integer");
                case 2 -> s.put("type", "number");
                case 3 -> s.put("type", "boolean");
                case 4 -> {
                    ArrayNode types = s.putArray("type");
                    types.add(new String[] {"string", "integer", "boolean", "number"}[r.nextInt(4)]).add("null");
                }
                case 5 -> {
                    ArrayNode values = s.putArray("enum");
                    int n = 1 + r.nextInt(4);
                    java.util.Set<String> seen = new java.util.HashSet<>();
                    for (int i = 0; i < n; i++) {
                        JsonNode v = value();
                        if (seen.add(v.toString())) values.add(v);
                    }
                }
                case 6 -> s.set("const", value());
                case 7, 8 -> {
                    return object(depth - 1);
                }
                case 9 -> {
                    s.put("type", "array");
                    s.set("items", any(depth - 1));
                    int min = r.nextInt(3);
                    if (min > 0 || r.nextBoolean()) s.put("minItems", min);
                    if (r.nextBoolean()) s.put("maxItems", min + r.nextInt(3));
                }
                case 10 -> {
                    ArrayNode options = s.putArray("anyOf");
                    int n = 2 + r.nextInt(2);
                    for (int i = 0; i < n; i++) options.add(any(depth - 1));
                }
                default -> {
                    if (defs == 0) return any(depth);
                    s.put("$ref", "#/$defs/d" + r.nextInt(defs));
                }
            }
            if (r.nextInt(5) == 0) s.put("description", "a field");
            return s;
        }

        ObjectNode object(int depth) {
            ObjectNode s = F.objectNode();
            s.put("type", "object");
            ObjectNode props = s.putObject("properties");
            ArrayNode required = F.arrayNode();
            int n = 1 + r.nextInt(4);
            int start = r.nextInt(NAMES.length);
            for (int i = 0; i < n; i++) {
                String name = NAMES[(start + i * 3) % NAMES.length];
                if (props.has(name)) continue;
                props.set(name, any(depth - 1));
                if (r.nextInt(3) > 0) required.add(name);
            }
            if (!required.isEmpty()) s.set("required", required);
            int ap = r.nextInt(10);
            if (ap < 7) s.put("additionalProperties", false);
            else if (ap == 7) s.set("additionalProperties", F.objectNode().put("type", "integer"));
            else if (ap == 8) s.put("additionalProperties", true);
            return s;
        }

        /** A definition: always an object (a bare self-reference would be refused), maybe recursive. */
        ObjectNode def(int i) {
            ObjectNode s = object(2);
            if (r.nextBoolean()) {
                ObjectNode kids = ((ObjectNode) s.get("properties")).putObject("children");
                kids.put("type", "array");
                kids.put("maxItems", 2);
                kids.putObject("items").put("$ref", "#/$defs/d" + i);
            }
            return s;
        }

        JsonNode value() {
            return switch (r.nextInt(10)) {
                case 0 -> F.stringNode("a\"b\\c");
                case 1 -> F.stringNode("é 😀 line\nbreak");
                case 2 -> F.stringNode("plain");
                case 3 -> F.numberNode(r.nextInt(200) - 100);
                case 4 -> F.numberNode(2.5);
                case 5 -> F.booleanNode(r.nextBoolean());
                case 6 -> F.nullNode();
                case 7 -> F.objectNode().put("k", 1).set("l", F.arrayNode().add("x"));
                case 8 -> F.arrayNode().add(1).add("two");
                default -> F.stringNode("");
            };
        }

        void renameRefs(JsonNode node, String from, String to) {
            if (node instanceof ObjectNode o) {
                JsonNode ref = o.get("$ref");
                if (ref != null && ref.isString() && ref.stringValue().startsWith(from)) {
                    o.put("$ref", to + ref.stringValue().substring(from.length()));
                }
            }
            for (JsonNode child : node) renameRefs(child, from, to);
        }
    }
}
