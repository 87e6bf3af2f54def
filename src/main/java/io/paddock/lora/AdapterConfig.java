package io.paddock.lora;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The settings of a PEFT LoRA adapter ({@code adapter_config.json}) that decide how it is applied. Settings the
 * runtime cannot honour are refused when the file is read.
 *
 * @param targetModules     every module the adapter targets in at least one layer
 * @param targetPattern     {@code target_modules} given as a string: a regular expression full-matched against module
 *                          keys such as {@code model.layers.0.self_attn.q_proj}; null for a list
 * @param layersToTransform the only decoder layers adapted; empty for all of them
 * @param rankPattern       per-module ranks ({@code rank_pattern}), keys matched against the end of a module key
 * @param alphaPattern      per-module alphas ({@code alpha_pattern}), matched the same way
 * @param fanInFanOut       {@code fan_in_fan_out}; informational for LLaMA, whose linears are {@code nn.Linear}
 *                          (PEFT resets it to false for them and lora_A/lora_B keep their usual layout either way)
 */
public record AdapterConfig(int r, double loraAlpha, Set<LoraModule> targetModules, boolean useRslora,
        String baseModelNameOrPath, String targetPattern, Set<Integer> layersToTransform,
        Map<String, Integer> rankPattern, Map<String, Double> alphaPattern, boolean fanInFanOut) {

    public static final String FILE_NAME = "adapter_config.json";

    public AdapterConfig {
        if (r < 1) throw new IllegalArgumentException("r must be >= 1, got " + r);
        targetModules = Set.copyOf(targetModules);
        layersToTransform = layersToTransform == null ? Set.of() : Set.copyOf(new TreeSet<>(layersToTransform));
        rankPattern = rankPattern == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(rankPattern));
        alphaPattern = alphaPattern == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(alphaPattern));
        if (targetPattern != null) Pattern.compile(targetPattern);
    }

    /** An adapter of one rank and alpha on the given modules of every layer. */
    public AdapterConfig(int r, double loraAlpha, Set<LoraModule> targetModules, boolean useRslora,
            String baseModelNameOrPath) {
        this(r, loraAlpha, targetModules, useRslora, baseModelNameOrPath, null, Set.of(), Map.of(), Map.of(), false);
    }

    /** {@code lora_alpha / r}, or {@code lora_alpha / √r} with rsLoRA, for a module of rank {@code rank}. */
    public float scale(int rank, double alpha) {
        return (float) exactScale(rank, alpha);
    }

    /** {@link #scale(int, double)} in float64, as a merge uses it. */
    public double exactScale(int rank, double alpha) {
        return useRslora ? alpha / Math.sqrt(rank) : alpha / rank;
    }

    /** PEFT's key of a module of a LLaMA causal LM, e.g. {@code model.layers.3.mlp.down_proj}. */
    public static String moduleKey(int layer, LoraModule module) {
        return "model.layers." + layer + "." + module.parent() + "." + module.peftName();
    }

    /** Whether the adapter adapts {@code module} of {@code layer}. */
    public boolean targets(int layer, LoraModule module) {
        if (!layersToTransform.isEmpty() && !layersToTransform.contains(layer)) return false;
        if (targetPattern != null) return Pattern.compile(targetPattern).matcher(moduleKey(layer, module)).matches();
        return targetModules.contains(module);
    }

    /** The rank of {@code module} in {@code layer}: the first matching {@code rank_pattern} entry, else r. */
    public int rank(int layer, LoraModule module) {
        String key = patternKey(rankPattern.keySet(), moduleKey(layer, module));
        return key == null ? r : rankPattern.get(key);
    }

    /** The alpha of {@code module} in {@code layer}: the first matching {@code alpha_pattern} entry, else lora_alpha. */
    public double alpha(int layer, LoraModule module) {
        String key = patternKey(alphaPattern.keySet(), moduleKey(layer, module));
        return key == null ? loraAlpha : alphaPattern.get(key);
    }

    /** The scaling of {@code module} in {@code layer} in float64. */
    public double exactScale(int layer, LoraModule module) {
        return exactScale(rank(layer, module), alpha(layer, module));
    }

    /** As PEFT: a pattern key matches a module key that ends with it, after a dot or as the whole key. */
    private static String patternKey(Set<String> keys, String moduleKey) {
        for (String k : keys) {
            if (Pattern.compile("(.*\\.)?(" + k + ")").matcher(moduleKey).matches()) return k;
        }
        return null;
    }

    /** Reads and checks {@code adapter_config.json}; every refusal is an {@link AdapterLoadException} naming the file and field. */
    public static AdapterConfig read(Path file) {
        String json;
        try {
            json = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new AdapterLoadException(file + ": file not found (a PEFT adapter directory has adapter_config.json)", e);
        } catch (IOException e) {
            throw new AdapterLoadException(file + ": cannot read (" + e + ")", e);
        }
        return parse(json, file.toString());
    }

    /** @param source the file name for messages */
    public static AdapterConfig parse(String json, String source) {
        JsonNode root;
        try {
            root = JsonMapper.shared().readTree(json);
        } catch (JacksonException e) {
            throw new AdapterLoadException(source + ": not valid JSON (" + e.getOriginalMessage() + ")", e);
        }
        if (root == null || !root.isObject()) throw new AdapterLoadException(source + ": not a JSON object");
        Fields f = new Fields(root, source);

        String peftType = f.string("peft_type");
        if (peftType == null) throw f.error("peft_type", "is missing (a LoRA adapter has \"peft_type\": \"LORA\")");
        if (!peftType.equals("LORA")) throw f.error("peft_type", "is \"" + peftType + "\"; only LORA adapters are supported");
        String bias = f.string("bias");
        if (bias != null && !bias.equals("none")) {
            throw f.error("bias", "is \"" + bias + "\"; adapters that train biases are not supported (only \"none\")");
        }
        JsonNode mts = root.get("modules_to_save");
        if (mts != null && !mts.isNull() && !(mts.isArray() && mts.isEmpty())) {
            throw f.error("modules_to_save", "is " + mts + "; adapters that replace whole modules are not supported");
        }
        if (f.bool("use_dora", false)) throw f.error("use_dora", "is true; DoRA adapters are not supported");
        boolean rslora = f.bool("use_rslora", false);
        boolean fanInFanOut = f.bool("fan_in_fan_out", false);
        int r = f.integer("r", 8);
        if (r < 1) throw f.error("r", "must be at least 1, got " + r);
        double alpha = f.number("lora_alpha", 8);

        Set<LoraModule> targets = EnumSet.noneOf(LoraModule.class);
        String pattern = null;
        JsonNode tm = root.get("target_modules");
        if (tm == null || tm.isNull()) {
            targets.addAll(List.of(LoraModule.Q, LoraModule.V)); // PEFT's default for LLaMA
        } else if (tm.isString()) {
            String s = tm.asString();
            if (s.equals("all-linear")) {
                targets.addAll(EnumSet.allOf(LoraModule.class));
            } else {
                try {
                    Pattern p = Pattern.compile(s);
                    for (LoraModule m : LoraModule.values()) {
                        // any layer index will do to learn which modules a layer-independent pattern can reach
                        for (int layer = 0; layer < 1000 && !targets.contains(m); layer++) {
                            if (p.matcher(moduleKey(layer, m)).matches()) targets.add(m);
                        }
                    }
                } catch (PatternSyntaxException e) {
                    throw f.error("target_modules", "\"" + s + "\" is not a valid regular expression (" + e.getDescription() + ")");
                }
                if (targets.isEmpty()) {
                    throw f.error("target_modules", "\"" + s + "\" matches none of the LLaMA linear layers (keys such as "
                            + moduleKey(0, LoraModule.Q) + ")");
                }
                pattern = s;
            }
        } else if (tm.isArray()) {
            for (JsonNode n : tm.values()) {
                if (!n.isString()) throw f.error("target_modules", "holds " + n + ", not a module name");
                LoraModule m = suffixModule(n.asString());
                if (m == null) {
                    throw f.error("target_modules", "names '" + n.asString() + "', which is not one of the LLaMA "
                            + "decoder linears (q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj)");
                }
                targets.add(m);
            }
            if (targets.isEmpty()) throw f.error("target_modules", "is empty");
        } else {
            throw f.error("target_modules", "must be a list of module names or a regular expression, got " + tm);
        }

        Set<Integer> layers = new TreeSet<>();
        JsonNode ltt = root.get("layers_to_transform");
        if (ltt != null && !ltt.isNull()) {
            if (ltt.isIntegralNumber()) {
                layers.add(ltt.asInt());
            } else if (ltt.isArray()) {
                for (JsonNode n : ltt.values()) {
                    if (!n.isIntegralNumber() || n.asInt() < 0) throw f.error("layers_to_transform", "holds " + n + ", not a layer index");
                    layers.add(n.asInt());
                }
            } else {
                throw f.error("layers_to_transform", "must be a layer index or a list of them, got " + ltt);
            }
        }

        Map<String, Integer> ranks = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : f.object("rank_pattern").entrySet()) {
            if (!e.getValue().isIntegralNumber() || e.getValue().asInt() < 1) {
                throw f.error("rank_pattern", "gives '" + e.getKey() + "' the rank " + e.getValue() + ", not a positive integer");
            }
            checkPatternKey(f, "rank_pattern", e.getKey());
            ranks.put(e.getKey(), e.getValue().asInt());
        }
        Map<String, Double> alphas = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : f.object("alpha_pattern").entrySet()) {
            if (!e.getValue().isNumber()) throw f.error("alpha_pattern", "gives '" + e.getKey() + "' " + e.getValue() + ", not a number");
            checkPatternKey(f, "alpha_pattern", e.getKey());
            alphas.put(e.getKey(), e.getValue().asDouble());
        }
        return new AdapterConfig(r, alpha, targets, rslora, f.string("base_model_name_or_path"), pattern, layers, ranks,
                alphas, fanInFanOut);
    }

    private static void checkPatternKey(Fields f, String field, String key) {
        try {
            Pattern.compile(key);
        } catch (PatternSyntaxException e) {
            throw f.error(field, "key '" + key + "' is not a valid regular expression (" + e.getDescription() + ")");
        }
    }

    /** The module a target_modules entry denotes as PEFT matches it: the whole key, or its end after a dot. */
    private static LoraModule suffixModule(String target) {
        for (LoraModule m : LoraModule.values()) {
            String key = moduleKey(0, m), keyNoLayer = m.parent() + "." + m.peftName();
            if (target.equals(m.peftName()) || target.equals(keyNoLayer) || key.endsWith("." + target)) return m;
        }
        return null;
    }

    /** Typed access to the fields of one config file, with errors naming the file and field. */
    private record Fields(JsonNode root, String source) {
        AdapterLoadException error(String field, String problem) {
            return new AdapterLoadException(source + ": field '" + field + "' " + problem);
        }

        String string(String name) {
            JsonNode n = root.get(name);
            if (n == null || n.isNull()) return null;
            if (!n.isString()) throw error(name, "must be a string, got " + n);
            return n.asString();
        }

        boolean bool(String name, boolean fallback) {
            JsonNode n = root.get(name);
            if (n == null || n.isNull()) return fallback;
            if (!n.isBoolean()) throw error(name, "must be true or false, got " + n);
            return n.asBoolean();
        }

        int integer(String name, int fallback) {
            JsonNode n = root.get(name);
            if (n == null || n.isNull()) return fallback;
            if (!n.isIntegralNumber() || !n.canConvertToInt()) throw error(name, "must be an integer, got " + n);
            return n.asInt();
        }

        double number(String name, double fallback) {
            JsonNode n = root.get(name);
            if (n == null || n.isNull()) return fallback;
            if (!n.isNumber()) throw error(name, "must be a number, got " + n);
            return n.asDouble();
        }

        Map<String, JsonNode> object(String name) {
            JsonNode n = root.get(name);
            Map<String, JsonNode> out = new LinkedHashMap<>();
            if (n == null || n.isNull()) return out;
            if (!n.isObject()) throw error(name, "must be an object, got " + n);
            for (Map.Entry<String, JsonNode> e : n.properties()) out.put(e.getKey(), e.getValue());
            return out;
        }
    }
}
