package io.paddock.format;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Which safetensors files hold a model directory's weights, in this order of preference:
 * <ol>
 *   <li>{@code model.safetensors.index.json}: sharded, its {@code weight_map} names each tensor's shard;</li>
 *   <li>{@code model.safetensors};</li>
 *   <li>exactly one {@code *.safetensors} of any name (GPTQ-for-LLaMa era files such as
 *       {@code stories260K-4bit-32g.safetensors}). Several unindexed candidates are an error rather than a guess.</li>
 * </ol>
 *
 * @param weightMap tensor name -> shard path for an indexed directory; null for a single file
 */
record WeightFiles(Path directory, List<Path> files, Map<String, Path> weightMap, String describe) {

    static final String INDEX = "model.safetensors.index.json";
    static final String SINGLE = "model.safetensors";

    static WeightFiles locate(Path modelDir) {
        if (!Files.isDirectory(modelDir)) {
            throw new ModelLoadException("model directory " + modelDir + " does not exist or is not a directory");
        }
        Path index = modelDir.resolve(INDEX);
        if (Files.isRegularFile(index)) return fromIndex(modelDir, index);
        Path single = modelDir.resolve(SINGLE);
        if (Files.isRegularFile(single)) return new WeightFiles(modelDir, List.of(single), null, SINGLE);

        List<Path> candidates;
        try (Stream<Path> s = Files.list(modelDir)) {
            candidates = s.filter(SafetensorsFile::isSafetensors).sorted().toList();
        } catch (IOException e) {
            throw new ModelLoadException("model directory " + modelDir + ": cannot list (" + e + ")", e);
        }
        if (candidates.isEmpty()) {
            throw new ModelLoadException("model directory " + modelDir + ": no weights file (expected " + SINGLE + ", "
                    + INDEX + " or one *.safetensors file)");
        }
        if (candidates.size() > 1) {
            throw new ModelLoadException("model directory " + modelDir + ": " + candidates.size()
                    + " *.safetensors files and no " + INDEX + " to say how they fit together: "
                    + candidates.stream().map(p -> p.getFileName().toString()).toList()
                    + " (keep one, or add an index)");
        }
        Path only = candidates.getFirst();
        return new WeightFiles(modelDir, candidates, null, only.getFileName().toString());
    }

    private static WeightFiles fromIndex(Path modelDir, Path index) {
        JsonNode root;
        try {
            root = JsonMapper.shared().readTree(index);
        } catch (JacksonException e) {
            throw new ModelLoadException(INDEX + ": invalid JSON (" + e.getOriginalMessage() + ")", e);
        }
        JsonNode map = root == null ? null : root.get("weight_map");
        if (map == null || !map.isObject() || map.isEmpty()) {
            throw new ModelLoadException(INDEX + ": missing or empty 'weight_map'");
        }
        Path dir = modelDir.toAbsolutePath().normalize();
        Map<String, Path> weightMap = new LinkedHashMap<>();
        TreeSet<Path> shards = new TreeSet<>();
        for (Map.Entry<String, JsonNode> e : map.properties()) {
            if (!e.getValue().isString()) {
                throw new ModelLoadException(INDEX + ": weight_map entry for tensor '" + e.getKey()
                        + "' must be a file name");
            }
            String shardName = e.getValue().stringValue();
            Path shard = dir.resolve(shardName).normalize();
            if (!shard.getParent().equals(dir)) {
                throw new ModelLoadException(INDEX + ": shard '" + shardName + "' for tensor '" + e.getKey()
                        + "' is not a file in the model directory");
            }
            if (!Files.isRegularFile(shard)) {
                throw new ModelLoadException(INDEX + ": shard '" + shardName + "' for tensor '" + e.getKey()
                        + "' not found");
            }
            weightMap.put(e.getKey(), shard);
            shards.add(shard);
        }
        return new WeightFiles(modelDir, List.copyOf(shards), Collections.unmodifiableMap(weightMap), INDEX);
    }
}
