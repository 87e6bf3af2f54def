package io.paddock.model;

/**
 * GPTQ settings given by the user (command line or server configuration) rather than read from the model
 * directory. Needed for GPTQ-for-LLaMa era uploads, which ship no {@code quantize_config.json}; where a config file
 * exists, each non-null value here replaces the file's. Null means "not given".
 *
 * @param bits      {@code --gptq-bits}: 2, 3, 4 or 8
 * @param groupSize {@code --gptq-group-size}: input features per group, or -1 for none
 * @param actOrder  {@code --gptq-act-order}: the file was quantized with act-order ({@code desc_act})
 */
public record GptqOverrides(Integer bits, Integer groupSize, Boolean actOrder) {

    /** The command-line spellings, so error messages and CLIs agree. */
    public static final String BITS_OPTION = "--gptq-bits";
    public static final String GROUP_SIZE_OPTION = "--gptq-group-size";
    public static final String ACT_ORDER_OPTION = "--gptq-act-order";

    /** Nothing given. */
    public static final GptqOverrides NONE = new GptqOverrides(null, null, null);

    public boolean isEmpty() {
        return bits == null && groupSize == null && actOrder == null;
    }

    /** The given values as options, e.g. {@code --gptq-bits 4 --gptq-group-size 32}, for messages. */
    public String describe() {
        StringBuilder b = new StringBuilder();
        if (bits != null) b.append(BITS_OPTION).append(' ').append(bits);
        if (groupSize != null) b.append(b.isEmpty() ? "" : " ").append(GROUP_SIZE_OPTION).append(' ').append(groupSize);
        if (actOrder != null) {
            b.append(b.isEmpty() ? "" : " ").append(actOrder ? ACT_ORDER_OPTION : ACT_ORDER_OPTION + "=false");
        }
        return b.toString();
    }
}
