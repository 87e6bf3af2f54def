package io.paddock.model;

import io.paddock.format.DType;
import io.paddock.format.ModelLoadException;
import io.paddock.format.Tensor;
import io.paddock.format.TensorInfo;
import io.paddock.format.WeightStore;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * Builds {@link GptqLinear}s from a weight store and checks every tensor against the settings, so that wrong
 * settings (or a wrong file) fail at load time with the tensor, both shapes and the setting at fault, instead of
 * dequantizing to garbage text later.
 */
final class GptqLoader {
    static final String QWEIGHT = ".qweight", QZEROS = ".qzeros", SCALES = ".scales", G_IDX = ".g_idx", BIAS = ".bias";
    private static final Set<DType> I32 = Set.of(DType.I32), F16 = Set.of(DType.F16);
    private static final String PROBE = "model.layers.0.self_attn.q_proj";

    private GptqLoader() {}

    /** A GPTQ checkpoint is recognised by its packed weights. */
    static boolean isGptq(WeightStore store) {
        return store.names().stream().anyMatch(n -> n.endsWith(QWEIGHT));
    }

    /** The file that holds GPTQ weights, for messages. */
    static String weightsFile(WeightStore store) {
        String any = store.contains(PROBE + QWEIGHT) ? PROBE + QWEIGHT
                : store.names().stream().filter(n -> n.endsWith(QWEIGHT)).findFirst().orElseThrow();
        return store.info(any).file().getFileName().toString();
    }

    /** The settings for this checkpoint, or one message saying which options to pass and what the shapes suggest. */
    static GptqSettings settings(Path dir, LlamaConfig config, WeightStore store, GptqOverrides o) {
        return GptqSettings.resolve(GptqSettings.declared(dir, config), o, absent -> {
            List<String> options = new ArrayList<>(absent);
            String last = o.actOrder() == null ? "(if act-order) " + GptqOverrides.ACT_ORDER_OPTION : null;
            String suggestion = suggest(store, config);
            return weightsFile(store) + ": GPTQ weights without " + GptqSettings.QUANTIZE_CONFIG
                    + " or quantization_config; pass " + joinOptions(options, last)
                    + (suggestion == null ? "" : " (the tensor shapes suggest " + suggestion + ")");
        });
    }

    private static String joinOptions(List<String> required, String last) {
        List<String> all = new ArrayList<>(required);
        if (last != null) all.add(last);
        if (all.size() == 1) return all.getFirst();
        return String.join(", ", all.subList(0, all.size() - 1)) + " and " + all.getLast();
    }

    /**
     * Bits, group size and act-order as the first down_proj's shapes imply them; only ever shown to the user, never
     * used: a shape cannot tell group size -1 from group size = in_features, nor a deliberate choice from a typo.
     */
    static String suggest(WeightStore store, LlamaConfig config) {
        // down_proj has the most input features, so its group count tells group size from "no groups" best
        String probe = "model.layers.0.mlp.down_proj";
        int in = config.intermediateSize();
        if (!store.contains(probe + QWEIGHT) || !store.contains(probe + QZEROS)) return null;
        TensorInfo qw = store.info(probe + QWEIGHT), qz = store.info(probe + QZEROS);
        if (qw.rank() != 2 || qz.rank() != 2) return null;
        Integer bits = bitsFor(qw.dim(0), in);
        long groups = qz.dim(0);
        if (bits == null || groups <= 0 || in % groups != 0) return null;
        int groupSize = groups == 1 ? -1 : (int) (in / groups);
        String s = "bits " + bits + ", group size " + groupSize;
        if (store.contains(probe + G_IDX)) {
            Tensor g = store.tensor(probe + G_IDX);
            if (g.dtype() == DType.I32 && g.elementCount() == in && firstMismatch(g, in, groupSize) >= 0) {
                s += " and act-order";
            }
        }
        return s;
    }

    /** Bits that make {@code rows} packed rows out of {@code in} features, or null if none does. */
    private static Integer bitsFor(long rows, int in) {
        if (rows <= 0 || rows * 32 % in != 0) return null;
        long b = rows * 32 / in;
        return b == 2 || b == 3 || b == 4 || b == 8 ? (int) b : null;
    }

    /**
     * Validates and wraps the four (or five) tensors of one linear layer.
     *
     * @param name e.g. {@code model.layers.0.self_attn.q_proj}
     */
    static GptqLinear linear(WeightStore store, String name, int out, int in, GptqSettings s) {
        GptqSpec spec = s.spec();
        int bits = spec.bits();
        Tensor qweight = store.require(name + QWEIGHT, I32);
        String file = qweight.info().file().getFileName().toString();
        Tensor qzeros = store.require(name + QZEROS, I32);
        Tensor scales = store.require(name + SCALES, F16);
        int groups = spec.groups(in);

        if ((long) in * bits % 32 != 0) {
            throw new ModelLoadException(file + ": tensor '" + name + QWEIGHT + "': in_features " + in
                    + " cannot be packed at " + s.bitsSetting() + " (in_features · bits must be a multiple of 32)");
        }
        long qRows = (long) in * bits / 32;
        if (!matches(qweight, qRows, out)) {
            String hint = qweight.info().rank() == 2 && qweight.shape()[1] == out && bitsFor(qweight.shape()[0], in) != null
                    ? "; the shape fits bits " + bitsFor(qweight.shape()[0], in) : "";
            throw shapeError(file, qweight, new long[] {qRows, out}, s.bitsSetting() + ": in_features " + in + " · "
                    + bits + " / 32 = " + qRows + " rows, out_features " + out + hint);
        }
        if ((long) out * bits % 32 != 0) {
            throw new ModelLoadException(file + ": tensor '" + name + QZEROS + "': out_features " + out
                    + " cannot be packed at " + s.bitsSetting());
        }
        long zCols = (long) out * bits / 32;
        if (!matches(qzeros, groups, zCols)) {
            throw shapeError(file, qzeros, new long[] {groups, zCols}, groupsText(s, in, groups)
                    + ", out_features " + out + " · " + bits + " / 32 = " + zCols + " columns at " + s.bitsSetting()
                    + groupHint(qzeros, in, groups));
        }
        if (!matches(scales, groups, out)) {
            throw shapeError(file, scales, new long[] {groups, out}, groupsText(s, in, groups)
                    + ", out_features " + out + groupHint(scales, in, groups));
        }
        Tensor gIdx = null;
        if (store.contains(name + G_IDX)) {
            gIdx = store.require(name + G_IDX, I32);
            if (!matches(gIdx, in)) {
                throw shapeError(file, gIdx, new long[] {in}, "one group index per input feature (in_features " + in
                        + ")");
            }
            checkGroupIndex(file, gIdx, in, groups, s);
        }
        Tensor bias = null;
        if (store.contains(name + BIAS)) {
            bias = store.require(name + BIAS, F16);
            if (!matches(bias, out)) throw shapeError(file, bias, new long[] {out}, "out_features " + out);
        }
        return new GptqLinear(name, spec, in, out, qweight, qzeros, scales, gIdx, bias);
    }

    private static String groupsText(GptqSettings s, int in, int groups) {
        return s.groupSizeSetting() + ": " + (s.spec().groupSize() == -1 ? "1 group"
                : "in_features " + in + " / " + s.spec().groupSize() + " = " + groups + " group" + (groups == 1 ? "" : "s"));
    }

    private static String groupHint(Tensor t, int in, int groups) {
        if (t.info().rank() != 2) return "";
        long rows = t.shape()[0];
        if (rows == groups || rows <= 0 || in % rows != 0) return "";
        return "; the shape fits group size " + (rows == 1 ? "-1 (or " + in + ")" : Long.toString(in / rows));
    }

    /**
     * g_idx must name a group that exists; without act-order it must be exactly i / group_size (a file quantized
     * with act-order read as if it were not is the likely mistake); with act-order each group must hold exactly
     * group_size features, as AutoGPTQ's reordering guarantees.
     */
    private static void checkGroupIndex(String file, Tensor gIdx, int in, int groups, GptqSettings s) {
        String where = file + ": tensor '" + gIdx.name() + "'";
        int[] count = new int[groups];
        for (int i = 0; i < in; i++) {
            int g = gIdx.getInt(i);
            if (g < 0 || g >= groups) {
                throw new ModelLoadException(where + ": feature " + i + " is in group " + g + ", outside [0, "
                        + groups + ") for " + s.groupSizeSetting());
            }
            count[g]++;
        }
        int gs = s.spec().groupSize();
        if (!s.spec().descAct()) {
            int i = firstMismatch(gIdx, in, gs);
            if (i >= 0) {
                throw new ModelLoadException(where + " is not i / group_size (feature " + i + " is in group "
                        + gIdx.getInt(i) + ", expected " + (gs == -1 ? 0 : i / gs) + ") with " + s.actOrderSetting()
                        + " and " + s.groupSizeSetting() + "; the file was quantized with act-order: pass "
                        + GptqOverrides.ACT_ORDER_OPTION);
            }
        } else if (gs != -1) {
            for (int g = 0; g < groups; g++) {
                int expected = Math.min(gs, in - g * gs);
                if (count[g] != expected) {
                    throw new ModelLoadException(where + ": group " + g + " has " + count[g] + " input features, "
                            + "expected " + expected + " for " + s.groupSizeSetting() + " with " + s.actOrderSetting());
                }
            }
        }
    }

    /** First feature whose group is not i / groupSize, or -1. */
    private static int firstMismatch(Tensor gIdx, int in, int groupSize) {
        for (int i = 0; i < in; i++) {
            if (gIdx.getInt(i) != (groupSize == -1 ? 0 : i / groupSize)) return i;
        }
        return -1;
    }

    private static boolean matches(Tensor t, long... dims) {
        return Arrays.equals(t.shape(), dims);
    }

    private static ModelLoadException shapeError(String file, Tensor t, long[] expected, String because) {
        return new ModelLoadException(file + ": tensor '" + t.name() + "' has shape " + t.info().shapeString()
                + ", expected " + Arrays.toString(expected) + " for " + because);
    }
}
