package io.paddock.model;

import io.paddock.format.ModelLoadException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import tools.jackson.databind.JsonNode;

/**
 * The GPTQ settings a checkpoint is loaded with, and where each came from, so that a shape mismatch can name the
 * setting at fault ("bits 3 (--gptq-bits)") instead of only the tensor.
 *
 * <p>Sources, in order: {@code quantize_config.json} (AutoGPTQ), else {@code quantization_config} in
 * {@code config.json} ({@code quant_method} "gptq"); user-given {@link GptqOverrides} replace any field of either.
 * A directory with neither file needs bits and group size from the user.
 */
public record GptqSettings(GptqSpec spec, String bitsSource, String groupSizeSource, String actOrderSource) {

    public static final String QUANTIZE_CONFIG = "quantize_config.json";
    static final String CONFIG_BLOCK = "config.json quantization_config";

    /**
     * What one config file declares; a field absent from the file is null.
     *
     * @param zeroPlusOne false for {@code checkpoint_format: gptq_v2}
     */
    public record Declared(String source, Integer bits, Integer groupSize, Boolean descAct, boolean sym,
            boolean zeroPlusOne) {}

    /** "bits 4 (quantize_config.json)", for messages. */
    public String bitsSetting() {
        return "bits " + spec.bits() + " (" + bitsSource + ")";
    }

    public String groupSizeSetting() {
        return "group size " + spec.groupSize() + " (" + groupSizeSource + ")";
    }

    public String actOrderSetting() {
        return "act-order " + (spec.descAct() ? "on" : "off") + " (" + actOrderSource + ")";
    }

    /** The settings {@code quantize_config.json} or {@code config.json} declare, if either has a GPTQ block. */
    public static Optional<Declared> declared(Path dir, LlamaConfig config) {
        Path file = dir.resolve(QUANTIZE_CONFIG);
        if (Files.isRegularFile(file)) {
            return Optional.of(parse(ConfigJson.parse(ConfigJson.read(file), QUANTIZE_CONFIG)));
        }
        Optional<JsonNode> block = config.quantizationConfig();
        if (block.isEmpty()) return Optional.empty();
        if (!block.get().isObject()) {
            throw new ModelLoadException(LlamaConfig.FILE_NAME + ": field 'quantization_config' must be an object");
        }
        ConfigJson c = ConfigJson.parse(block.get().toString(), CONFIG_BLOCK);
        String method = c.optString("quant_method");
        if (method != null && !method.equalsIgnoreCase("gptq")) {
            throw c.error("quant_method", "is \"" + method + "\"; paddock loads only GPTQ (\"gptq\") quantized models");
        }
        return Optional.of(parse(c));
    }

    /** Parses one GPTQ settings object (either file uses the same field names). */
    static Declared parse(ConfigJson c) {
        Integer bits = c.optInt("bits");
        if (bits != null) checkBits(bits, b -> c.error("bits", b));
        Integer groupSize = c.optInt("group_size");
        if (groupSize != null) checkGroupSize(groupSize, m -> c.error("group_size", m));
        Boolean descAct = c.optBoolean("desc_act");
        Boolean sym = c.optBoolean("sym");
        if (Boolean.TRUE.equals(c.optBoolean("is_marlin_format"))) {
            throw c.error("is_marlin_format", "is true; paddock loads only the \"gptq\" and \"gptq_v2\" layouts");
        }
        String format = c.optString("checkpoint_format");
        boolean zeroPlusOne;
        if (format == null || format.equalsIgnoreCase("gptq")) {
            zeroPlusOne = true;
        } else if (format.equalsIgnoreCase("gptq_v2")) {
            zeroPlusOne = false;
        } else {
            throw c.error("checkpoint_format", "is \"" + format + "\"; paddock loads only \"gptq\" and \"gptq_v2\"");
        }
        return new Declared(c.source(), bits, groupSize, descAct, sym == null || sym, zeroPlusOne);
    }

    /**
     * Combines what the directory declares with what the user gave (the user wins).
     *
     * @param missing builds the message for settings nobody gave, from the options the user still has to pass
     *                (e.g. ["--gptq-bits", "--gptq-group-size"]); it names the weights file
     */
    public static GptqSettings resolve(Optional<Declared> declared, GptqOverrides overrides,
            Function<List<String>, String> missing) {
        GptqOverrides o = overrides == null ? GptqOverrides.NONE : overrides;
        if (o.bits() != null) checkBits(o.bits(), m -> userError(GptqOverrides.BITS_OPTION, o.bits(), m));
        if (o.groupSize() != null) {
            checkGroupSize(o.groupSize(), m -> userError(GptqOverrides.GROUP_SIZE_OPTION, o.groupSize(), m));
        }
        Declared d = declared.orElse(null);
        String fileSource = d == null ? null : d.source();

        Integer bits = o.bits() != null ? o.bits() : d == null ? null : d.bits();
        String bitsSource = o.bits() != null ? GptqOverrides.BITS_OPTION : fileSource;
        Integer groupSize = o.groupSize() != null ? o.groupSize() : d == null ? null : d.groupSize();
        String groupSource = o.groupSize() != null ? GptqOverrides.GROUP_SIZE_OPTION : fileSource;

        List<String> absent = new ArrayList<>();
        if (bits == null) absent.add(GptqOverrides.BITS_OPTION);
        if (groupSize == null) absent.add(GptqOverrides.GROUP_SIZE_OPTION);
        if (!absent.isEmpty()) {
            if (d == null) throw new ModelLoadException(missing.apply(absent));
            // a config file that exists but lacks the field: point at the file, and at the way around it
            String field = bits == null ? "bits" : "group_size";
            throw new ModelLoadException(d.source() + ": missing field '" + field + "'; fix the file or pass "
                    + String.join(" and ", absent));
        }

        boolean actOrder;
        String actSource;
        if (o.actOrder() != null) {
            actOrder = o.actOrder();
            actSource = GptqOverrides.ACT_ORDER_OPTION;
        } else if (d != null && d.descAct() != null) {
            actOrder = d.descAct();
            actSource = d.source();
        } else {
            actOrder = false;
            actSource = d == null ? "not given" : d.source() + " has no desc_act";
        }
        boolean sym = d == null || d.sym();
        boolean zeroPlusOne = d == null || d.zeroPlusOne(); // GPTQ-for-LLaMa stored zero − 1, like AutoGPTQ v1
        return new GptqSettings(new GptqSpec(bits, groupSize, actOrder, sym, zeroPlusOne), bitsSource, groupSource,
                actSource);
    }

    private static void checkBits(int bits, Function<String, ModelLoadException> error) {
        if (bits != 2 && bits != 3 && bits != 4 && bits != 8) throw error.apply("must be 2, 3, 4 or 8, got " + bits);
    }

    private static void checkGroupSize(int groupSize, Function<String, ModelLoadException> error) {
        if (groupSize != -1 && groupSize <= 0) {
            throw error.apply("must be -1 (no groups) or a positive number of input features, got " + groupSize);
        }
    }

    private static ModelLoadException userError(String option, int value, String problem) {
        return new ModelLoadException(option + " " + value + ": " + problem);
    }
}
