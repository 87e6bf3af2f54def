package io.paddock.structured;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;

/**
 * Compiles the supported JSON Schema subset (see {@code docs/structured-output.md}) to grammar nodes. One
 * instance per schema; not thread-safe.
 */
final class SchemaCompiler {
    /** Keywords that only annotate: ignored. */
    static final Set<String> ANNOTATIONS = Set.of("title", "description", "default", "examples", "$schema", "$id",
            "$comment", "deprecated", "readOnly", "writeOnly");
    /** Keywords that constrain and are enforced. */
    static final Set<String> SUPPORTED = Set.of("type", "properties", "required", "additionalProperties", "items",
            "minItems", "maxItems", "enum", "const", "anyOf", "oneOf", "$defs", "definitions", "$ref", "minLength",
            "maxLength", "format");
    /** Formats accepted: {@code uuid} is enforced, the others are plain strings (their shape is not enforced). */
    static final Set<String> FORMATS = Set.of("date", "date-time", "time", "duration", "uuid", "email", "hostname",
            "ipv4", "ipv6", "uri");
    private static final Set<String> TYPES = Set.of("string", "number", "integer", "boolean", "null", "object",
            "array");
    private static final Set<String> NUMBER_BOUNDS = Set.of("minimum", "maximum", "exclusiveMinimum",
            "exclusiveMaximum", "multipleOf");
    /**
     * Assertions that only narrow values and that generation cannot enforce: refused in strict mode, accepted and not
     * enforced otherwise (the output is then valid JSON of the right shape that may break only these).
     */
    static final Set<String> UNENFORCED = Set.of("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
            "multipleOf", "pattern", "uniqueItems", "minProperties", "maxProperties");

    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private final JsonNode root;
    private final Map<String, Node.Ref> refs = new HashMap<>();

    private final boolean strict;

    private SchemaCompiler(JsonNode root, boolean strict) {
        this.root = root;
        this.strict = strict;
    }

    /** The node of a JSON value valid against {@code schema}. */
    static Node compile(JsonNode schema) {
        return compile(schema, true);
    }

    /** As {@link #compile(JsonNode)}; unless {@code strict}, the {@link #UNENFORCED} keywords are accepted. */
    static Node compile(JsonNode schema, boolean strict) {
        if (schema == null || schema.isMissingNode()) {
            throw new SchemaException("", "#", "no schema given");
        }
        SchemaCompiler c = new SchemaCompiler(schema, strict);
        Node.Ref self = new Node.Ref("#");
        c.refs.put("#", self);
        self.target = c.schema(schema, "#", Set.of("#"));
        return self;
    }

    /**
     * @param bare the {@code $ref} targets entered since the last byte-consuming construct: meeting one of them
     *     again is a cycle that would expand forever
     */
    private Node schema(JsonNode s, String ptr, Set<String> bare) {
        if (s.isBoolean()) {
            if (s.booleanValue()) return JsonNodes.ANY;
            throw new SchemaException("false", ptr, "schema false at " + ptr + " matches nothing");
        }
        if (!s.isObject()) {
            throw new SchemaException("", ptr, "schema at " + ptr + " must be an object or a boolean, not " + s);
        }
        for (String k : s.propertyNames()) {
            if (ANNOTATIONS.contains(k) || SUPPORTED.contains(k)) continue;
            if (!strict && UNENFORCED.contains(k)) continue;
            if (NUMBER_BOUNDS.contains(k)) {
                throw new SchemaException(k, ptr, "unsupported keyword '" + k + "' at " + ptr
                        + " (numeric bounds cannot be enforced while generating)");
            }
            throw new SchemaException(k, ptr, "unsupported keyword '" + k + "' at " + ptr);
        }
        if (s.has("$ref")) {
            onlyWith(s, ptr, "$ref");
            return ref(s.get("$ref"), ptr, bare);
        }
        if (s.has("const")) {
            onlyWith(s, ptr, "const", "type");
            JsonNode values = F.arrayNode().add(s.get("const"));
            return literals("const", values, ptr, types(s, ptr));
        }
        if (s.has("anyOf") || s.has("oneOf")) {
            String k = s.has("anyOf") ? "anyOf" : "oneOf";
            onlyWith(s, ptr, k);
            JsonNode list = s.get(k);
            if (!list.isArray() || list.isEmpty()) invalid(k, ptr, "must be a non-empty array of schemas");
            Node[] options = new Node[list.size()];
            for (int i = 0; i < options.length; i++) options[i] = schema(list.get(i), ptr + "/" + k + "/" + i, bare);
            return options.length == 1 ? options[0] : new Node.Alt(options);
        }
        Set<String> types = types(s, ptr);
        if (s.has("enum")) {
            onlyWith(s, ptr, "enum", "type");
            return literals("enum", s.get("enum"), ptr, types);
        }
        if (types.isEmpty()) {
            if (has(s, "properties", "required", "additionalProperties")) types = Set.of("object");
            else if (has(s, "items", "minItems", "maxItems")) types = Set.of("array");
            else if (has(s, "minLength", "maxLength", "format")) types = Set.of("string");
            else return JsonNodes.ANY;
        }
        List<Node> options = new ArrayList<>();
        for (String t : types) options.add(typed(t, s, ptr));
        return options.size() == 1 ? options.getFirst() : new Node.Alt(options.toArray(Node[]::new));
    }

    private Node typed(String type, JsonNode s, String ptr) {
        return switch (type) {
            case "string" -> string(s, ptr);
            case "number" -> JsonNodes.NUMBER;
            case "integer" -> JsonNodes.INTEGER;
            case "boolean" -> JsonNodes.BOOLEAN;
            case "null" -> JsonNodes.NULL;
            case "object" -> object(s, ptr);
            case "array" -> array(s, ptr);
            default -> throw new IllegalStateException(type);
        };
    }

    private Set<String> types(JsonNode s, String ptr) {
        JsonNode t = s.get("type");
        if (t == null) return Set.of();
        Set<String> out = new LinkedHashSet<>();
        if (t.isString()) {
            out.add(t.stringValue());
        } else if (t.isArray() && !t.isEmpty()) {
            for (JsonNode e : t) {
                if (!e.isString()) invalid("type", ptr, "must be a type name or an array of type names");
                out.add(e.stringValue());
            }
        } else {
            invalid("type", ptr, "must be a type name or a non-empty array of type names");
        }
        for (String name : out) {
            if (!TYPES.contains(name)) invalid("type", ptr, "unknown type '" + name + "'");
        }
        return out;
    }

    private Node string(JsonNode s, String ptr) {
        int min = count(s, "minLength", ptr, 0);
        int max = count(s, "maxLength", ptr, -1);
        if (max >= 0 && max < min) invalid("maxLength", ptr, "is below minLength " + min);
        JsonNode f = s.get("format");
        if (f != null && !(f.isString() && FORMATS.contains(f.stringValue()))) {
            throw new SchemaException("format", ptr, "unsupported format " + f + " at " + ptr + " (supported: "
                    + String.join(", ", FORMATS.stream().sorted().toList()) + ")");
        }
        if (f != null && f.stringValue().equals("uuid")) {
            if (min > 36 || (max >= 0 && max < 36)) invalid("format", ptr, "a uuid has 36 characters");
            return JsonNodes.UUID;
        }
        return min == 0 && max < 0 ? JsonNodes.STRING : new Node.Str(min, max, null);
    }

    private Node object(JsonNode s, String ptr) {
        JsonNode props = s.get("properties");
        if (props != null && !props.isObject()) invalid("properties", ptr, "must be an object of schemas");
        Set<String> required = new LinkedHashSet<>();
        JsonNode req = s.get("required");
        if (req != null) {
            if (!req.isArray()) invalid("required", ptr, "must be an array of property names");
            for (JsonNode r : req) {
                if (!r.isString()) invalid("required", ptr, "must be an array of property names");
                if (props == null || !props.has(r.stringValue())) {
                    throw new SchemaException("required", ptr, "required property '" + r.stringValue() + "' at "
                            + ptr + " is not declared in 'properties'");
                }
                required.add(r.stringValue());
            }
        }
        List<JsonNodes.Property> list = new ArrayList<>();
        if (props != null) {
            for (var e : props.properties()) {
                String name = e.getKey();
                Node value = schema(e.getValue(), ptr + "/properties/" + escape(name), Set.of());
                list.add(new JsonNodes.Property(name, value, required.contains(name)));
            }
        }
        JsonNode ap = s.get("additionalProperties");
        Node extra;
        if (ap == null || (ap.isBoolean() && ap.booleanValue())) extra = JsonNodes.ANY;
        else if (ap.isBoolean()) extra = null;
        else if (ap.isObject()) extra = schema(ap, ptr + "/additionalProperties", Set.of());
        else throw invalid("additionalProperties", ptr, "must be a boolean or a schema");
        return JsonNodes.object(list, extra);
    }

    private Node array(JsonNode s, String ptr) {
        JsonNode items = s.get("items");
        Node item;
        if (items == null) item = JsonNodes.ANY;
        else if (items.isArray()) {
            throw new SchemaException("items", ptr, "unsupported keyword 'items' with an array (tuple) value at "
                    + ptr);
        } else item = schema(items, ptr + "/items", Set.of());
        int min = count(s, "minItems", ptr, 0);
        int max = count(s, "maxItems", ptr, -1);
        if (max >= 0 && max < min) invalid("maxItems", ptr, "is below minItems " + min);
        return JsonNodes.array(item, min, max);
    }

    /** The values of {@code enum} / {@code const} (as their compact JSON text) that are of one of the types. */
    private Node literals(String keyword, JsonNode values, String ptr, Set<String> types) {
        if (!values.isArray() || values.isEmpty()) invalid(keyword, ptr, "must be a non-empty array");
        Set<String> literals = new LinkedHashSet<>();
        for (JsonNode v : values) {
            if (types.isEmpty() || types.contains(typeOf(v))
                    || (types.contains("number") && v.isNumber())
                    || (types.contains("integer") && v.isNumber() && isIntegral(v))) {
                literals.add(v.toString());
            }
        }
        if (literals.isEmpty()) invalid(keyword, ptr, "has no value of type " + String.join(" or ", types));
        Node[] options = literals.stream().map(Node.Lit::new).toArray(Node[]::new);
        return options.length == 1 ? options[0] : new Node.Alt(options);
    }

    private static boolean isIntegral(JsonNode v) {
        return v.isIntegralNumber() || (v.isFloatingPointNumber() && v.doubleValue() == Math.rint(v.doubleValue()));
    }

    private static String typeOf(JsonNode v) {
        if (v.isString()) return "string";
        if (v.isIntegralNumber()) return "integer";
        if (v.isNumber()) return "number";
        if (v.isBoolean()) return "boolean";
        if (v.isNull()) return "null";
        if (v.isObject()) return "object";
        return "array";
    }

    private Node ref(JsonNode r, String ptr, Set<String> bare) {
        if (!r.isString()) invalid("$ref", ptr, "must be a string");
        String target = r.stringValue();
        if (!target.equals("#") && !target.startsWith("#/")) {
            throw new SchemaException("$ref", ptr, "unsupported $ref '" + target + "' at " + ptr
                    + " (only local references such as #/$defs/name)");
        }
        if (bare.contains(target)) {
            throw new SchemaException("$ref", ptr, "circular $ref '" + target + "' at " + ptr
                    + ": the schema refers to itself before any JSON text is produced");
        }
        Node.Ref known = refs.get(target);
        if (known != null) return known;
        JsonNode resolved = target.equals("#") ? root : root.at(target.substring(1));
        if (resolved == null || resolved.isMissingNode()) {
            throw new SchemaException("$ref", ptr, "unresolvable $ref '" + target + "' at " + ptr);
        }
        Node.Ref ref = new Node.Ref(target);
        refs.put(target, ref);
        Set<String> inner = new HashSet<>(bare);
        inner.add(target);
        ref.target = schema(resolved, target, inner);
        return ref;
    }

    /** Only annotations, definitions and {@code also} may stand beside {@code keyword}. */
    private static void onlyWith(JsonNode s, String ptr, String keyword, String... also) {
        for (String k : s.propertyNames()) {
            if (k.equals(keyword) || ANNOTATIONS.contains(k) || k.equals("$defs") || k.equals("definitions")) continue;
            if (Arrays.asList(also).contains(k)) continue;
            throw new SchemaException(k, ptr, "unsupported keyword '" + k + "' next to '" + keyword + "' at " + ptr);
        }
    }

    private static boolean has(JsonNode s, String... keys) {
        for (String k : keys) if (s.has(k)) return true;
        return false;
    }

    private static int count(JsonNode s, String key, String ptr, int absent) {
        JsonNode v = s.get(key);
        if (v == null) return absent;
        if (!v.isIntegralNumber() || v.longValue() < 0 || v.longValue() > Integer.MAX_VALUE) {
            invalid(key, ptr, "must be a non-negative integer");
        }
        return v.intValue();
    }

    private static SchemaException invalid(String keyword, String ptr, String why) {
        throw new SchemaException(keyword, ptr, "invalid '" + keyword + "' at " + ptr + ": " + why);
    }

    /** A property name as a JSON pointer segment. */
    static String escape(String name) {
        return name.replace("~", "~0").replace("/", "~1");
    }
}
