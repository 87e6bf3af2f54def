package io.paddock.runtime.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import io.paddock.format.DType;
import io.paddock.format.Tensor;
import io.paddock.format.TensorInfo;
import io.paddock.model.GptqLinear;
import io.paddock.model.GptqSpec;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link GptqReference} against the dequantization formula on hand-packed layers. The packing here is this
 * test's own (a bit array per packed line, cut into int32 words), independent of {@code GptqPacking}, so the
 * oracle's bit-stream reading, 3-bit straddling included, is checked rather than assumed.
 */
class GptqReferenceTests {

    /** A random GPTQ layer and the unpacked values it was built from. */
    record Layer(GptqLinear linear,
                 int[][] q,          // (in, out) codes
                 int[][] zStored,    // (groups, out) zero points as packed (before the +1 of zeroPlusOne)
                 short[][] scale,    // (groups, out) f16 bits
                 int[] gIdx,         // (in)
                 short[] bias) {     // (out), or null

        float expected(int i, int o) {
            int g = gIdx[i];
            int z = zStored[g][o] + (linear.spec().zeroPlusOne() ? 1 : 0);
            return Float.float16ToFloat(scale[g][o]) * (q[i][o] - z);
        }

        /** The layer output in double, straight from the formula; also Σ|x·w| (+|bias|) per output for tolerances. */
        double[][] expectedMatmul(float[] x, int batch) {
            int in = linear.inFeatures(), out = linear.outFeatures();
            double[][] r = new double[2][batch * out];
            for (int b = 0; b < batch; b++) {
                for (int o = 0; o < out; o++) {
                    double bi = bias == null ? 0 : Float.float16ToFloat(bias[o]);
                    double acc = bi, abs = Math.abs(bi);
                    for (int i = 0; i < in; i++) {
                        double t = (double) x[b * in + i] * expected(i, o);
                        acc += t;
                        abs += Math.abs(t);
                    }
                    r[0][b * out + o] = acc;
                    r[1][b * out + o] = abs;
                }
            }
            return r;
        }
    }

    /**
     * A layer of random codes, zeros and positive f16 scales. With act-order, g_idx is a random permutation with
     * exactly groupSize inputs per group; without, i / groupSize (given as a tensor, or null when {@code nullGIdx}).
     */
    static Layer randomLayer(SplittableRandom rnd, int bits, int in, int out, int groupSize, boolean actOrder,
                             boolean zeroPlusOne, boolean withBias, boolean nullGIdx) {
        int groups = groupSize == -1 ? 1 : Math.ceilDiv(in, groupSize);
        int max = 1 << bits;
        int[][] q = new int[in][out];
        for (int[] row : q) for (int o = 0; o < out; o++) row[o] = rnd.nextInt(max);
        int[][] z = new int[groups][out];
        for (int[] row : z) for (int o = 0; o < out; o++) row[o] = rnd.nextInt(zeroPlusOne ? max - 1 : max);
        short[][] s = new short[groups][out];
        for (short[] row : s) for (int o = 0; o < out; o++) row[o] = Float.floatToFloat16((float) rnd.nextDouble(1e-3, 0.05));
        int[] gIdx = new int[in];
        for (int i = 0; i < in; i++) gIdx[i] = groupSize == -1 ? 0 : i / groupSize;
        if (actOrder) {
            for (int i = in - 1; i > 0; i--) {     // Fisher-Yates keeps exactly groupSize inputs per group
                int j = rnd.nextInt(i + 1), t = gIdx[i];
                gIdx[i] = gIdx[j];
                gIdx[j] = t;
            }
        }
        short[] bias = null;
        if (withBias) {
            bias = new short[out];
            for (int o = 0; o < out; o++) bias[o] = Float.floatToFloat16((float) rnd.nextDouble(-1, 1));
        }

        int qRows = in * bits / 32;
        int[] qw = new int[qRows * out];            // (in*bits/32, out): column o is one packed line
        for (int o = 0; o < out; o++) {
            int[] line = new int[in];
            for (int i = 0; i < in; i++) line[i] = q[i][o];
            int[] words = packLine(line, bits, qRows);
            for (int k = 0; k < qRows; k++) qw[k * out + o] = words[k];
        }
        int zWords = Math.ceilDiv(out * bits, 32);
        int[] qz = new int[groups * zWords];         // (groups, ceil(out*bits/32)): row g is one packed line
        for (int g = 0; g < groups; g++) System.arraycopy(packLine(z[g], bits, zWords), 0, qz, g * zWords, zWords);
        short[] sc = new short[groups * out];
        for (int g = 0; g < groups; g++) System.arraycopy(s[g], 0, sc, g * out, out);

        String name = "test.proj";
        Tensor qweight = tensor(name + ".qweight", DType.I32, MemorySegment.ofArray(qw), qRows, out);
        Tensor qzeros = tensor(name + ".qzeros", DType.I32, MemorySegment.ofArray(qz), groups, zWords);
        Tensor scales = tensor(name + ".scales", DType.F16, MemorySegment.ofArray(sc), groups, out);
        Tensor g = nullGIdx ? null : tensor(name + ".g_idx", DType.I32, MemorySegment.ofArray(gIdx.clone()), in);
        Tensor b = bias == null ? null : tensor(name + ".bias", DType.F16, MemorySegment.ofArray(bias.clone()), out);
        GptqSpec spec = new GptqSpec(bits, groupSize, actOrder, true, zeroPlusOne);
        return new Layer(new GptqLinear(name, spec, in, out, qweight, qzeros, scales, g, b), q, z, s, gIdx, bias);
    }

    static Tensor tensor(String name, DType dt, MemorySegment data, long... shape) {
        return new Tensor(new TensorInfo(name, dt, shape, Path.of("memory"), 0, data.byteSize()), data);
    }

    /** Value j in stream bits [j·bits, (j+1)·bits), word k = stream bits [32k, 32k+32), low bit first. */
    static int[] packLine(int[] values, int bits, int words) {
        boolean[] stream = new boolean[words * 32];
        for (int j = 0; j < values.length; j++) {
            for (int b = 0; b < bits; b++) stream[j * bits + b] = ((values[j] >> b) & 1) != 0;
        }
        int[] w = new int[words];
        for (int k = 0; k < words; k++) {
            for (int b = 0; b < 32; b++) if (stream[k * 32 + b]) w[k] |= 1 << b;
        }
        return w;
    }

    static Stream<Arguments> variants() {
        List<Arguments> a = new ArrayList<>();
        for (int bits : new int[] {2, 3, 4, 8}) {
            for (int gs : new int[] {32, 64, 128, -1}) {
                for (boolean act : new boolean[] {false, true}) {
                    for (boolean zpo : new boolean[] {true, false}) a.add(Arguments.of(bits, gs, act, zpo));
                }
            }
        }
        return a.stream();
    }

    @ParameterizedTest(name = "{0} bits, group {1}, act-order {2}, zero+1 {3}")
    @MethodSource("variants")
    void dequantizeEqualsTheFormulaExactly(int bits, int groupSize, boolean actOrder, boolean zeroPlusOne) {
        SplittableRandom rnd = new SplittableRandom(bits * 1000L + groupSize * 10L + (actOrder ? 1 : 0) + (zeroPlusOne ? 5 : 0));
        for (boolean withBias : new boolean[] {false, true}) {
            Layer l = randomLayer(rnd, bits, 256, 37, groupSize, actOrder, zeroPlusOne, withBias, false);
            float[] w = GptqReference.dequantize(l.linear());
            for (int i = 0; i < 256; i++) {
                for (int o = 0; o < 37; o++) {
                    assertThat(Float.floatToRawIntBits(w[i * 37 + o])).as("w[%d,%d]", i, o)
                            .isEqualTo(Float.floatToRawIntBits(l.expected(i, o)));
                }
            }
            float[] x = GptqMatMulTests.activations(rnd, 2 * 256);
            float[] y = new float[2 * 37 + 3];
            GptqReference.matmul(l.linear(), x, 0, y, 3, 2);
            double[][] want = l.expectedMatmul(x, 2);
            for (int k = 0; k < 2 * 37; k++) assertThat((double) y[3 + k]).isCloseTo(want[0][k], offset(1e-6 * want[1][k] + 1e-30));
        }
    }

    @Test
    void nullGIdxMeansConsecutiveGroups() {
        Layer l = randomLayer(new SplittableRandom(3), 4, 128, 8, 32, false, true, false, true);
        float[] w = GptqReference.dequantize(l.linear());
        for (int i = 0; i < 128; i++) {
            for (int o = 0; o < 8; o++) assertThat(w[i * 8 + o]).isEqualTo(l.expected(i, o));
        }
    }

    /** The README's 3-bit layout written out bit by bit for codes 0..31 = j % 8: word boundaries at codes 10 and 21. */
    @Test
    void threeBitStraddlingCodesByHand() {
        int[] codes = new int[32];
        for (int j = 0; j < 32; j++) codes[j] = j % 8;
        int w0 = 0, w1 = 0, w2 = 0;
        for (int j = 0; j < 10; j++) w0 |= codes[j] << (3 * j);
        w0 |= (codes[10] & 3) << 30;
        w1 |= codes[10] >> 2;
        for (int j = 11; j < 21; j++) w1 |= codes[j] << (3 * (j - 11) + 1);
        w1 |= (codes[21] & 1) << 31;
        w2 |= codes[21] >> 1;
        for (int j = 22; j < 32; j++) w2 |= codes[j] << (3 * (j - 22) + 2);
        assertThat(packLine(codes, 3, 3)).containsExactly(w0, w1, w2);

        int[] qw = {w0, w1, w2};                       // (3, 1): one output column
        int[] qz = packLine(new int[] {3}, 3, 1);      // zero 3 (+1 = 4)
        short[] sc = {Float.floatToFloat16(0.5f)};
        GptqLinear l = new GptqLinear("hand", new GptqSpec(3, -1, false, true, true), 32, 1,
                tensor("q", DType.I32, MemorySegment.ofArray(qw), 3, 1), tensor("z", DType.I32, MemorySegment.ofArray(qz), 1, 1),
                tensor("s", DType.F16, MemorySegment.ofArray(sc), 1, 1), null, null);
        float[] w = GptqReference.dequantize(l);
        for (int j = 0; j < 32; j++) assertThat(w[j]).as("code %d", j).isEqualTo(0.5f * (j % 8 - 4));
    }
}
