package io.paddock.format;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The parsed and validated JSON header of a safetensors file. Everything a later read relies on is checked
 * here, once, so that {@link SafetensorsFile#tensor} can slice the mapping without further checks: each
 * tensor's byte range lies inside the file, matches its shape and dtype, and overlaps no other tensor.
 */
record SafetensorsHeader(Map<String, TensorInfo> tensors, Map<String, String> metadata) {

    /** The same bound the reference implementation uses; a larger "header" means a corrupt length field. */
    static final long MAX_HEADER_BYTES = 100_000_000L;

    static final String METADATA_KEY = "__metadata__";

    // Immutable once built; duplicate tensor names must be an error, not "last one wins".
    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    /**
     * @param json      the header bytes (UTF-8 JSON, possibly padded with trailing spaces)
     * @param dataStart absolute offset of the data section: 8 + header length
     * @param dataSize  bytes in the data section: file size - dataStart
     */
    static SafetensorsHeader parse(byte[] json, Path file, long dataStart, long dataSize) {
        String where = file.getFileName().toString();
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JacksonException e) {
            throw new ModelLoadException(where + ": corrupt safetensors header: invalid JSON ("
                    + e.getOriginalMessage() + ")", e);
        }
        if (root == null || !root.isObject()) {
            throw new ModelLoadException(where + ": corrupt safetensors header: expected a JSON object");
        }

        Map<String, String> metadata = new LinkedHashMap<>();
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        long[][] ranges = new long[root.size()][];
        List<String> rangeNames = new ArrayList<>();
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            String name = e.getKey();
            if (name.equals(METADATA_KEY)) {
                readMetadata(e.getValue(), where, metadata);
                continue;
            }
            TensorInfo info = readTensor(name, e.getValue(), file, where, dataStart, dataSize);
            tensors.put(name, info);
            ranges[rangeNames.size()] = new long[] {info.dataOffset(), info.dataOffset() + info.byteSize()};
            rangeNames.add(name);
        }
        checkNoOverlap(ranges, rangeNames, where);
        return new SafetensorsHeader(Collections.unmodifiableMap(tensors), Collections.unmodifiableMap(metadata));
    }

    private static void readMetadata(JsonNode node, String where, Map<String, String> out) {
        if (node.isNull()) return;
        if (!node.isObject()) {
            throw new ModelLoadException(where + ": corrupt safetensors header: " + METADATA_KEY + " must be an object");
        }
        for (Map.Entry<String, JsonNode> m : node.properties()) {
            if (!m.getValue().isString()) {
                throw new ModelLoadException(where + ": corrupt safetensors header: " + METADATA_KEY + " value '"
                        + m.getKey() + "' must be a string, got " + m.getValue());
            }
            out.put(m.getKey(), m.getValue().stringValue());
        }
    }

    private static TensorInfo readTensor(
            String name, JsonNode node, Path file, String where, long dataStart, long dataSize) {
        String prefix = where + ": tensor '" + name + "'";
        if (!node.isObject()) throw new ModelLoadException(prefix + ": header entry must be an object");

        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isString()) {
            throw new ModelLoadException(prefix + ": missing or non-string 'dtype'");
        }
        DType dtype;
        try {
            dtype = DType.parse(dtypeNode.stringValue());
        } catch (IllegalArgumentException e) {
            throw new ModelLoadException(prefix + ": " + e.getMessage(), e);
        }

        long[] shape = readLongs(node.get("shape"), -1, prefix + ": 'shape'");
        long[] offsets = readLongs(node.get("data_offsets"), 2, prefix + ": 'data_offsets'");
        long begin = offsets[0];
        long end = offsets[1];
        if (end < begin) {
            throw new ModelLoadException(prefix + ": data_offsets [" + begin + ", " + end + ") end before begin");
        }
        if (end > dataSize) {
            throw new ModelLoadException(prefix + ": data_offsets [" + begin + ", " + end + ") reach beyond the "
                    + dataSize + "-byte data section (file truncated?)");
        }
        long expectedBytes;
        try {
            long elements = 1;
            for (long d : shape) elements = Math.multiplyExact(elements, d);
            expectedBytes = Math.multiplyExact(elements, (long) dtype.byteSize());
        } catch (ArithmeticException e) {
            throw new ModelLoadException(prefix + ": shape " + Arrays.toString(shape) + " is too large", e);
        }
        if (end - begin != expectedBytes) {
            throw new ModelLoadException(prefix + ": data_offsets [" + begin + ", " + end + ") span " + (end - begin)
                    + " bytes, but shape " + Arrays.toString(shape) + " of " + dtype + " needs "
                    + expectedBytes);
        }
        return new TensorInfo(name, dtype, shape, file, dataStart + begin, expectedBytes);
    }

    /** Non-negative integers; {@code expectedLength} -1 means any length. */
    private static long[] readLongs(JsonNode node, int expectedLength, String what) {
        if (node == null || !node.isArray()) throw new ModelLoadException(what + " must be an array");
        if (expectedLength >= 0 && node.size() != expectedLength) {
            throw new ModelLoadException(what + " must have " + expectedLength + " elements, got " + node.size());
        }
        long[] out = new long[node.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode v = node.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
                throw new ModelLoadException(what + " must hold non-negative integers, got " + node);
            }
            out[i] = v.longValue();
        }
        return out;
    }

    private static void checkNoOverlap(long[][] ranges, List<String> names, String where) {
        Integer[] order = new Integer[names.size()];
        for (int i = 0; i < order.length; i++) order[i] = i;
        Arrays.sort(order, Comparator.<Integer>comparingLong(i -> ranges[i][0])
                .thenComparingLong(i -> ranges[i][1]));
        int prev = -1;
        for (int idx : order) {
            if (ranges[idx][0] == ranges[idx][1]) continue; // empty tensors occupy no bytes
            if (prev >= 0 && ranges[idx][0] < ranges[prev][1]) {
                throw new ModelLoadException(where + ": tensor '" + names.get(idx) + "' overlaps tensor '"
                        + names.get(prev) + "' in the data section");
            }
            prev = idx;
        }
    }
}
