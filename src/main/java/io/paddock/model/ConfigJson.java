package io.paddock.model;

import io.paddock.format.ModelLoadException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Typed access to the fields of one JSON config file, with every failure phrased as
 * "{@code <file>: field '<name>' ...}". A JSON null counts as absent, as transformers treats it.
 */
final class ConfigJson {
    private final JsonNode root;
    private final String source;

    private ConfigJson(JsonNode root, String source) {
        this.root = root;
        this.source = source;
    }

    static ConfigJson parse(String json, String source) {
        JsonNode root;
        try {
            root = JsonMapper.shared().readTree(json);
        } catch (JacksonException e) {
            throw new ModelLoadException(source + ": invalid JSON (" + e.getOriginalMessage() + ")", e);
        }
        if (root == null || !root.isObject()) {
            throw new ModelLoadException(source + ": expected a JSON object");
        }
        return new ConfigJson(root, source);
    }

    /** The file's text; {@link ModelLoadException} naming the directory and file when it cannot be read. */
    static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new ModelLoadException(file.getFileName() + ": not found in model directory " + file.getParent(), e);
        } catch (IOException e) {
            throw new ModelLoadException(file.getFileName() + ": cannot read (" + e + ")", e);
        }
    }

    static void requireDirectory(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new ModelLoadException("model directory " + dir + " does not exist or is not a directory");
        }
    }

    JsonNode root() {
        return root;
    }

    String source() {
        return source;
    }

    boolean has(String field) {
        JsonNode v = root.get(field);
        return v != null && !v.isNull();
    }

    ModelLoadException error(String field, String problem) {
        return new ModelLoadException(source + ": field '" + field + "' " + problem);
    }

    int requireInt(String field) {
        Integer v = optInt(field);
        if (v == null) throw new ModelLoadException(source + ": missing required field '" + field + "'");
        return v;
    }

    Integer optInt(String field) {
        JsonNode v = root.get(field);
        if (v == null || v.isNull()) return null;
        return asInt(field, v);
    }

    private int asInt(String field, JsonNode v) {
        // 4096.0 is how some exporters write integers; accept it when exact
        if (v.isNumber() && v.canConvertToExactIntegral() && v.canConvertToInt()) return v.asInt();
        throw error(field, "must be an integer, got " + v);
    }

    Float optFloat(String field) {
        JsonNode v = root.get(field);
        if (v == null || v.isNull()) return null;
        if (!v.isNumber()) throw error(field, "must be a number, got " + v);
        return v.floatValue();
    }

    Boolean optBoolean(String field) {
        JsonNode v = root.get(field);
        if (v == null || v.isNull()) return null;
        if (!v.isBoolean()) throw error(field, "must be true or false, got " + v);
        return v.booleanValue();
    }

    String optString(String field) {
        JsonNode v = root.get(field);
        if (v == null || v.isNull()) return null;
        if (!v.isString()) throw error(field, "must be a string, got " + v);
        return v.stringValue();
    }

    /** An int or a list of ints (transformers allows both for token ids); empty when absent. */
    List<Integer> intOrList(String field) {
        JsonNode v = root.get(field);
        if (v == null || v.isNull()) return List.of();
        if (!v.isArray()) return List.of(asInt(field, v));
        List<Integer> out = new ArrayList<>();
        for (JsonNode e : v.values()) out.add(asInt(field, e));
        return List.copyOf(out);
    }
}
