package io.paddock.runtime.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.paddock.bench.SyntheticShape;
import io.paddock.model.DenseLinear;
import io.paddock.model.GptqOverrides;
import io.paddock.model.GptqSpec;
import io.paddock.model.LlamaCheckpoint;
import io.paddock.model.LlamaConfig;
import io.paddock.model.LlamaWeights;
import io.paddock.runtime.KvCacheDtype;
import io.paddock.testing.SharedModels;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The memory plan with the figures of real cards and the original LLaMA sizes, 4-bit g128 act-order, context 2048,
 * 16-token blocks, max-num-seqs 64. Every expected figure is worked out by hand in the comments, so a change to
 * what the runtime allocates shows up here as a number that moved.
 *
 * <p>Weights (GpuFootprint.weightBytes(config, 4, 128, true)). Every layer of these shapes is in the tiled 4-bit
 * layout (in % 128 == 0, out % 64 == 0): a 4-bit g128 layer of in × out stores qtiles in·out/2, zeros16
 * in/128 · out · 2 = in·out/64, scales in/128 · out · 2 = in·out/64, so in·out · 136/256 bytes, plus tileGroup
 * 4·in/16 and the act-order permutation 4·in, 17·in/4. Per block: in·out summed over q, k, v, o, gate, up, down is
 * 4h² + 3h·ff; the inputs sum to 6h + ff; two fp32 norms 8h. Outside the blocks: fp16 embedding and lm_head
 * (untied) 2 · 32000 · h · 2, the final norm 4h, RoPE cos+sin 2 · 2048 · 64 · 4 = 1,048,576.
 * <pre>
 *        4h²+3h·ff     ·136/256       17/4·(6h+ff)  8h   per block    × layers          embed+head     total
 *   7B   202,375,168   107,511,808    151,232    32,768  107,695,808  ×32 3,446,265,856    524,288,000  3,971,618,816 (3.70 GiB)
 *  13B   317,194,240   168,509,440    189,312    40,960  168,739,712  ×40 6,749,588,480    655,360,000  7,406,017,536 (6.90 GiB)
 *  33B   535,035,904   284,237,824    245,888    53,248  284,536,960  ×60 17,072,217,600   851,968,000 17,925,260,800 (16.69 GiB)
 *  65B   809,500,672   430,047,232    302,464    65,536  430,415,232  ×80 34,433,218,560 1,048,576,000 35,482,875,904 (33.05 GiB)
 * </pre>
 * (totals add the final norm 4h and the RoPE 1,048,576.)
 *
 * <p>Step scratch (GpuFootprint.scratchBytes): per row 6h + 3ff + 3 words (x, xb, q, att, k, v at h since
 * kvHeads = heads; gate, up and the GPTQ gather xp at ff; token, pos, table offset); per logits row h + 32000
 * words, 64 of them; block tables 64 sequences · 2048/16 = 8192 ints = 32,768 bytes; the split-K workspace
 * (GpuFootprint.splitPartialFloats: 8 slices of the widest fused projection a row, at most 2^21 floats, which
 * every budget here reaches, plus 1024 counters) 8,392,704 bytes.
 * <pre>
 *        row bytes   512 rows       + logits, tables, split-K   8192 rows      + logits, tables, split-K
 *   7B   230,412     117,970,944    135,636,992 (129.4 MiB)     1,887,535,104  1,905,201,152 (1.77 GiB)
 *  13B   288,780     147,855,360    165,783,552 (158.1 MiB)     2,365,685,760  2,383,613,952 (2.21 GiB)
 *  33B   374,796     191,895,552    210,216,960 (200.5 MiB)     3,070,328,832  3,088,650,240 (2.87 GiB)
 *  65B   460,812     235,935,744    254,650,368 (242.9 MiB)     3,774,971,904  3,793,686,528 (3.53 GiB)
 * </pre>
 *
 * <p>KV, fp32: 2 · layers · h · 4 per token. 7B 1,048,576 (1 MiB), 13B 1,638,400, 33B 3,194,880, 65B 5,242,880;
 * a 16-token block 16,777,216 / 26,214,400 / 51,118,080 / 83,886,080; one 2048-token context (128 blocks) 2 GiB /
 * 3.125 GiB / 6.09 GiB / 10 GiB. These plans are for an fp32 pool; an fp16 pool (the runtime's default) takes half
 * per token plus its attention scratch (sevenBOnA24GBCardWithF16KvHoldsTwiceTheTokens).
 *
 * <p>Devices: free = total − 512 MiB (driver and context), usable = floor(0.9 · free).
 * H100 80 GB: 85.0e9 → free 84,463,129,088 → usable 76,016,816,179 (70.8 GiB).
 * A100 40 GB: 42.4e9 → free 41,863,129,088 → usable 37,676,816,179 (35.1 GiB).
 * 24 GB card: 25.4e9 → free 24,863,129,088 → usable 22,376,816,179 (20.8 GiB).
 * KV blocks = floor((usable − weights − scratch) / block bytes), capped at 64 contexts = 8192 blocks (never reached
 * here), failing below 128.
 */
class GpuMemoryPlanTests {
    static final long DRIVER_OVERHEAD = 512L << 20;
    static final GpuMemoryPlan.Device H100 = device("H100 80 GB", 85.0e9);
    static final GpuMemoryPlan.Device A100 = device("A100 40 GB", 42.4e9);
    static final GpuMemoryPlan.Device CARD24 = device("24 GB card", 25.4e9);
    static final int CONTEXT = 2048, BLOCK = 16, MAX_SEQS = 64;

    static GpuMemoryPlan.Device device(String name, double total) {
        long t = (long) total;
        return new GpuMemoryPlan.Device(name, t - DRIVER_OVERHEAD, t);
    }

    static LlamaConfig config(SyntheticShape s) {
        return new LlamaConfig(s.hidden(), s.intermediate(), s.layers(), s.heads(), s.kvHeads(), s.headDim(), s.vocab(),
                s.maxPositions(), (float) s.rmsNormEps(), 10000f, false, 1, 2, List.of(2), "float16", null);
    }

    static GpuMemoryPlan.Model model(String name, SyntheticShape s) {
        LlamaConfig c = config(s);
        return new GpuMemoryPlan.Model(name + " 4-bit", c, GpuFootprint.weightBytes(c, 4, 128, true));
    }

    static final GpuMemoryPlan.Model L7B = model("7B", SyntheticShape.LLAMA_7B);
    static final GpuMemoryPlan.Model L13B = model("13B", SyntheticShape.LLAMA_13B);
    static final GpuMemoryPlan.Model L33B = model("33B", SyntheticShape.LLAMA_33B);
    static final GpuMemoryPlan.Model L65B = model("65B", SyntheticShape.LLAMA_65B);

    static GpuMemoryPlan plan(GpuMemoryPlan.Device d, GpuMemoryPlan.Model m, int rows) {
        return GpuMemoryPlan.plan(d, m, new GpuMemoryPlan.StepLimits(rows, MAX_SEQS),
                GpuMemoryPlan.KvPolicy.automatic(BLOCK, CONTEXT, MAX_SEQS));
    }

    @Test
    void weightsOfTheFourSizesAsWorkedOutAbove() {
        assertThat(L7B.weightBytes()).isEqualTo(3_971_618_816L);
        assertThat(L13B.weightBytes()).isEqualTo(7_406_017_536L);
        assertThat(L33B.weightBytes()).isEqualTo(17_925_260_800L);
        assertThat(L65B.weightBytes()).isEqualTo(35_482_875_904L);
    }

    @Test
    void kvBytesPerTokenIsFp32KeysAndValuesOfEveryLayer() {
        assertThat(GpuFootprint.kvBytesPerToken(L7B.config())).isEqualTo(1L << 20);
        assertThat(GpuFootprint.kvBytesPerToken(L13B.config())).isEqualTo(1_638_400L);
        assertThat(GpuFootprint.kvBytesPerToken(L33B.config())).isEqualTo(3_194_880L);
        assertThat(GpuFootprint.kvBytesPerToken(L65B.config())).isEqualTo(5_242_880L);
    }

    /**
     * An 8192-token prefill chunk of 7B needs ~1.9 GB of scratch: 8192 rows × 230,412 bytes (57,603 fp32 words a
     * row, over half of them the three ff-wide buffers gate, up and xp at 11,008 each) = 1,887,535,104, plus 9.2 MB
     * of logits for 64 sequences and 32 KiB of block tables. As much as a 7B 4-bit model's weights' half, so it
     * must come out of the budget before the KV pool is sized.
     */
    @Test
    void scratchOfAn8kChunkOf7BIsAbout2GB() {
        LlamaConfig c = L7B.config();
        long bytes = GpuFootprint.scratchBytes(c, 8192, MAX_SEQS, CONTEXT, BLOCK);
        assertThat(bytes).isEqualTo(1_905_201_152L).isBetween(1_800_000_000L, 2_000_000_000L);
        assertThat(GpuFootprint.rowWords(c)).isEqualTo(57_603);
        // The 512-token default budget: 16× fewer rows, ~121 MiB.
        assertThat(GpuFootprint.scratchBytes(c, 512, MAX_SEQS, CONTEXT, BLOCK)).isEqualTo(135_636_992L);
    }

    @Test
    void kvBytesPerTokenInF16IsHalf() {
        assertThat(GpuFootprint.kvBytesPerToken(L7B.config(), KvCacheDtype.F16)).isEqualTo(1L << 19);
        assertThat(GpuFootprint.kvBytesPerToken(L65B.config(), KvCacheDtype.F16)).isEqualTo(2_621_440L);
        assertThat(GpuFootprint.kvBytesPerToken(L7B.config(), KvCacheDtype.F32)).isEqualTo(1L << 20);
    }

    /**
     * Decode partitions: 128 positions up to 64 of them (8K context), then longer partitions (a multiple of the
     * 16-position tile) so the partial-result scratch stays bounded: 128K context → 2048 positions × 64.
     */
    @Test
    void attentionPartitionsAre128PositionsUpTo64OfThem() {
        assertThat(GpuFootprint.attentionPartition(1)).isEqualTo(128);
        assertThat(GpuFootprint.attentionSplits(1)).isEqualTo(1);
        assertThat(GpuFootprint.attentionSplits(128)).isEqualTo(1);
        assertThat(GpuFootprint.attentionSplits(129)).isEqualTo(2);
        assertThat(GpuFootprint.attentionSplits(2048)).isEqualTo(16);
        assertThat(GpuFootprint.attentionSplits(8192)).isEqualTo(64);
        assertThat(GpuFootprint.attentionPartition(8193)).isEqualTo(144);   // ceil(8193/64) = 129 → 144
        assertThat(GpuFootprint.attentionSplits(8193)).isEqualTo(57);
        assertThat(GpuFootprint.attentionPartition(131072)).isEqualTo(2048);
        assertThat(GpuFootprint.attentionSplits(131072)).isEqualTo(64);
    }

    /**
     * 7B, 24 GB card, 8192-row budget with f16 KV. The fp16 attention scratch: tile list 2 · 8192 ints, and per
     * decode slot (64) a row int plus 32 heads · 16 partitions (2048 / 128) · (128 + 2) floats and 32 partition
     * counters: 4 · (16,384 + 64 ·
     * 66,593) = 17,113,344 bytes, so scratch 1,905,201,152 + 17,113,344 = 1,922,314,496. Left for KV (with the tiled
     * 7B weights, 3,971,618,816 bytes) 16,482,882,867 in blocks of 16 · 2 · 32 · 4096 · 2 = 8,388,608 bytes: 1964
     * blocks (31,424 tokens, about twice the f32 plan's), 7,656,755 bytes
     * left over.
     */
    @Test
    void sevenBOnA24GBCardWithF16KvHoldsTwiceTheTokens() {
        GpuMemoryPlan p = GpuMemoryPlan.plan(CARD24, L7B, new GpuMemoryPlan.StepLimits(8192, MAX_SEQS),
                GpuMemoryPlan.KvPolicy.automatic(BLOCK, CONTEXT, MAX_SEQS, KvCacheDtype.F16));
        assertThat(GpuFootprint.attentionScratchBytes(L7B.config(), 8192, 64, KvCacheDtype.F16)).isEqualTo(17_113_344L);
        assertThat(GpuFootprint.attentionScratchBytes(L7B.config(), 8192, 64, KvCacheDtype.F32)).isZero();
        assertThat(p.scratchBytes()).isEqualTo(1_922_314_496L);
        assertThat(p.kvBlocks()).isEqualTo(1964);
        assertThat(p.kvBytes()).isEqualTo(1964L * 8_388_608);
        assertThat(p.headroomBytes()).isEqualTo(7_656_755L);
        assertThat(p.weightBytes() + p.scratchBytes() + p.kvBytes() + p.headroomBytes()).isEqualTo(p.usableBytes());
        assertThat(p.summary()).contains("KV 15.3 GiB (1964 blocks, 31424 tokens)");
    }

    @Test
    void tableBoundIsOneFullTablePerSequenceThatCanBeInAStep() {
        assertThat(GpuFootprint.tableInts(512, 64, 2048, 16)).isEqualTo(64 * 128);
        assertThat(GpuFootprint.tableInts(8, 64, 2048, 16)).isEqualTo(8 * 128); // 8 rows: at most 8 chunks
        assertThat(GpuFootprint.tableInts(1, 1, 2049, 16)).isEqualTo(129);
    }

    /** device, model, token budget, KV blocks expected (0: the plan must fail), and the arithmetic behind it. */
    static Stream<Arguments> combinations() {
        return Stream.of(
                // H100, 512 rows. 7B: 76,016,816,179 − 3,971,618,816 − 135,636,992 = 71,909,560,371 → 4286 blocks
                Arguments.of(H100, L7B, 512, 4286),
                // 13B: 76,016,816,179 − 7,406,017,536 − 165,783,552 = 68,445,015,091 / 26,214,400 → 2610
                Arguments.of(H100, L13B, 512, 2610),
                // 33B: 76,016,816,179 − 17,925,260,800 − 210,216,960 = 57,881,338,419 / 51,118,080 → 1132
                Arguments.of(H100, L33B, 512, 1132),
                // 65B: 76,016,816,179 − 35,482,875,904 − 254,650,368 = 40,279,289,907 / 83,886,080 → 480
                Arguments.of(H100, L65B, 512, 480),
                // H100, 8192 rows. 7B: − 3,971,618,816 − 1,905,201,152 = 70,139,996,211 / 16,777,216 → 4180
                Arguments.of(H100, L7B, 8192, 4180),
                // 13B: − 7,406,017,536 − 2,383,613,952 = 66,227,184,691 / 26,214,400 → 2526
                Arguments.of(H100, L13B, 8192, 2526),
                // 33B: − 17,925,260,800 − 3,088,650,240 = 55,002,905,139 / 51,118,080 → 1075
                Arguments.of(H100, L33B, 8192, 1075),
                // 65B: − 35,482,875,904 − 3,793,686,528 = 36,740,253,747 / 83,886,080 → 437
                Arguments.of(H100, L65B, 8192, 437),

                // A100 40 GB, 512 rows. 7B: 37,676,816,179 − 3,971,618,816 − 135,636,992 = 33,569,560,371 → 2000
                Arguments.of(A100, L7B, 512, 2000),
                // 13B: 37,676,816,179 − 7,406,017,536 − 165,783,552 = 30,105,015,091 / 26,214,400 → 1148
                Arguments.of(A100, L13B, 512, 1148),
                // 33B: 37,676,816,179 − 17,925,260,800 − 210,216,960 = 19,541,338,419 / 51,118,080 → 382
                Arguments.of(A100, L33B, 512, 382),
                // 65B: 37,676,816,179 − 35,482,875,904 − 254,650,368 = 1,939,289,907 < one context 10 GiB: fails
                Arguments.of(A100, L65B, 512, 0),
                // A100, 8192 rows. 7B: − 3,971,618,816 − 1,905,201,152 = 31,799,996,211 / 16,777,216 → 1895
                Arguments.of(A100, L7B, 8192, 1895),
                // 13B: − 7,406,017,536 − 2,383,613,952 = 27,887,184,691 / 26,214,400 → 1063
                Arguments.of(A100, L13B, 8192, 1063),
                // 33B: − 17,925,260,800 − 3,088,650,240 = 16,662,905,139 / 51,118,080 → 325
                Arguments.of(A100, L33B, 8192, 325),
                // 65B: weights + scratch alone (39.3e9) exceed 37.7e9 usable: fails
                Arguments.of(A100, L65B, 8192, 0),

                // 24 GB card, 512 rows. 7B: 22,376,816,179 − 3,971,618,816 − 135,636,992 = 18,269,560,371 → 1088
                Arguments.of(CARD24, L7B, 512, 1088),
                // 13B: 22,376,816,179 − 7,406,017,536 − 165,783,552 = 14,805,015,091 / 26,214,400 → 564
                Arguments.of(CARD24, L13B, 512, 564),
                // 33B: 22,376,816,179 − 17,925,260,800 − 210,216,960 = 4,241,338,419 < one context 6.09 GiB: fails
                Arguments.of(CARD24, L33B, 512, 0),
                // 65B: the weights alone (35.5e9) exceed 22.4e9 usable: fails
                Arguments.of(CARD24, L65B, 512, 0),
                // 24 GB, 8192 rows. 7B: − 3,971,618,816 − 1,905,201,152 = 16,499,996,211 / 16,777,216 → 983
                Arguments.of(CARD24, L7B, 8192, 983),
                // 13B: − 7,406,017,536 − 2,383,613,952 = 12,587,184,691 / 26,214,400 → 480
                Arguments.of(CARD24, L13B, 8192, 480),
                // 33B: − 17,925,260,800 − 3,088,650,240 = 1,362,905,139: fails
                Arguments.of(CARD24, L33B, 8192, 0),
                Arguments.of(CARD24, L65B, 8192, 0));
    }

    @ParameterizedTest(name = "{1} on {0} with {2} rows: {3} blocks")
    @MethodSource("combinations")
    void whichFitAndWithHowManyBlocks(GpuMemoryPlan.Device d, GpuMemoryPlan.Model m, int rows, int blocks) {
        if (blocks == 0) {
            assertThatThrownBy(() -> plan(d, m, rows))
                    .isInstanceOf(GpuMemoryPlanException.class)
                    .hasMessageContaining(m.name() + " on " + d.name())
                    .hasMessageContaining("weights " + GpuMemoryPlan.size(m.weightBytes()))
                    .hasMessageContaining("(" + rows + " rows)")
                    .hasMessageContaining("KV for one 2048-token context")
                    .hasMessageContaining("usable (90 % of " + GpuMemoryPlan.size(d.freeBytes()) + " free)")
                    .hasMessageContaining("a bigger device");
            return;
        }
        GpuMemoryPlan p = plan(d, m, rows);
        assertThat(p.kvBlocks()).isEqualTo(blocks);
        assertThat(p.kvTokens()).isEqualTo(16L * blocks);
        assertThat(p.kvBytes()).isEqualTo(blocks * 16 * GpuFootprint.kvBytesPerToken(m.config()));
        // Whole blocks from everything left: less than one block unused, and nothing over.
        assertThat(p.headroomBytes()).isBetween(0L, 16 * GpuFootprint.kvBytesPerToken(m.config()) - 1);
        assertThat(p.weightBytes() + p.scratchBytes() + p.kvBytes() + p.headroomBytes()).isEqualTo(p.usableBytes());
        assertThat(p.summary()).contains(blocks + " blocks", 16L * blocks + " tokens");
    }

    @Test
    void sevenBOnA24GBCardWithAn8kBudgetDetail() {
        GpuMemoryPlan p = plan(CARD24, L7B, 8192);
        assertThat(p.usableBytes()).isEqualTo(22_376_816_179L);
        assertThat(p.scratchBytes()).isEqualTo(1_905_201_152L);
        assertThat(p.tableInts()).isEqualTo(8192);
        assertThat(p.scratchWanted()).isEqualTo(64);
        assertThat(p.kvBytes()).isEqualTo(983L * 16_777_216);
        // 16,499,996,211 − 983 · 16,777,216 = 7,992,883 bytes left over.
        assertThat(p.headroomBytes()).isEqualTo(7_992_883L);
        assertThat(p.summary()).contains("weights 3.7 GiB", "step scratch 1.8 GiB (8192 rows)",
                "KV 15.4 GiB (983 blocks, 15728 tokens)", "of 20.8 GiB usable (90 % of 23.2 GiB free)");
    }

    @Test
    void failureShowsTheSumAndWhatWouldFit() {
        // 33B on 24 GB, 512 rows: 16.7 GiB + 200.5 MiB + 6.1 GiB = 23.0 GiB > 20.8 GiB usable.
        assertThatThrownBy(() -> plan(CARD24, L33B, 512))
                .hasMessageStartingWith("33B 4-bit on 24 GB card (23.7 GiB): weights 16.7 GiB + step scratch 200.5 MiB "
                        + "(512 rows) + KV for one 2048-token context 6.1 GiB = 23.0 GiB > 20.8 GiB usable (90 % of "
                        + "23.2 GiB free)")
                // Context: (22,376,816,179 − 17,925,260,800 − 210,216,960) / 3,194,880 = 1327.5 → 1312 whole blocks.
                .hasMessageContaining("a shorter context (at most 1312 tokens; KV takes 3.0 MiB per token)")
                // The token budget cannot help: even 64 rows leave less than one context.
                .hasMessageNotContaining("max-num-batched-tokens")
                // 23.0 GiB ≤ 23.2 GiB free: 99 % of it would do.
                .hasMessageContaining("a higher GPU memory utilization (99 % of the free memory would do)")
                .hasMessageContaining("a bigger device (2.1 GiB more usable memory)");
        // 65B on 24 GB: nothing but a bigger device helps.
        assertThatThrownBy(() -> plan(CARD24, L65B, 512))
                .hasMessageContaining("a bigger device: the weights alone need 33.0 GiB")
                .hasMessageNotContaining("shorter context")
                .hasMessageNotContaining("max-num-batched-tokens");
    }

    @Test
    void aTooLargeTokenBudgetIsNamedWithTheBudgetThatFits() {
        // 13B on 24 GB with 40960 rows: scratch 40960 · 288,780 = 11,828,428,800 + 9,535,488 of logits and tables
        // + 8,392,704 of split-K workspace = 11,846,356,992 (11.0 GiB); with the weights and one context 22,599,425,024 > 22,376,816,179 usable.
        // Rows that fit: (22,376,816,179 − 7,406,017,536 − 3,355,443,200 − 9,535,488 − 8,392,704) / 288,780 = 40,160.1 → 40,160.
        assertThatThrownBy(() -> plan(CARD24, L13B, 40960))
                .isInstanceOf(GpuMemoryPlanException.class)
                .hasMessageContaining("step scratch 11.0 GiB (40960 rows)")
                .hasMessageContaining("a smaller max-num-batched-tokens (at most 40160; each row of a step takes 282.0 KiB "
                        + "of scratch)");
    }

    @Test
    void theAutomaticPoolIsCappedAtWantedSequencesFullContexts() {
        GpuMemoryPlan p = GpuMemoryPlan.plan(H100, L7B, new GpuMemoryPlan.StepLimits(512, 4),
                GpuMemoryPlan.KvPolicy.automatic(BLOCK, CONTEXT, 4));
        assertThat(p.kvBlocks()).isEqualTo(4 * 128);
        assertThat(p.kvTokens()).isEqualTo(4 * 2048);
        assertThat(p.headroomBytes()).isGreaterThan(50L << 30); // what the cap left unused
    }

    @Test
    void anExplicitBudgetIsTakenExactlyOrFails() {
        var step = new GpuMemoryPlan.StepLimits(512, MAX_SEQS);
        var explicit10G = new GpuMemoryPlan.KvPolicy(BLOCK, CONTEXT, MAX_SEQS, 0.9, 10L << 30);
        GpuMemoryPlan p = GpuMemoryPlan.plan(H100, L7B, step, explicit10G);
        assertThat(p.kvBlocks()).isEqualTo(640); // 10 GiB / 16 MiB
        assertThat(p.kvBytes()).isEqualTo(10L << 30);
        // 10 GiB also fits next to 7B on 24 GB with an 8k budget: 3.7 + 1.8 + 10 = 15.5 GiB ≤ 20.8 GiB.
        assertThat(GpuMemoryPlan.plan(CARD24, L7B, new GpuMemoryPlan.StepLimits(8192, MAX_SEQS), explicit10G).kvBlocks())
                .isEqualTo(640);
        // 20 GiB does not: 3.7 + 1.8 + 20 = 25.5 GiB > 20.8 GiB.
        var explicit20G = new GpuMemoryPlan.KvPolicy(BLOCK, CONTEXT, MAX_SEQS, 0.9, 20L << 30);
        assertThatThrownBy(() -> GpuMemoryPlan.plan(CARD24, L7B, new GpuMemoryPlan.StepLimits(8192, MAX_SEQS), explicit20G))
                .isInstanceOf(GpuMemoryPlanException.class)
                .hasMessageContaining("the configured KV pool (kv-cache-memory) 20.0 GiB = 25.5 GiB > 20.8 GiB usable")
                .hasMessageContaining("a smaller kv-cache-memory (at most 15.4 GiB is left)");
        // Less than one context (2 GiB for 7B) is refused: a request of full length could never run.
        var explicit1G = new GpuMemoryPlan.KvPolicy(BLOCK, CONTEXT, MAX_SEQS, 0.9, 1L << 30);
        assertThatThrownBy(() -> GpuMemoryPlan.plan(H100, L7B, step, explicit1G))
                .isInstanceOf(GpuMemoryPlanException.class)
                .hasMessageContaining("kv-cache-memory 1.0 GiB holds 1024 tokens, less than one 2048-token context (2.0 GiB");
    }

    @Test
    void utilizationBoundsTheUsableShare() {
        var step = new GpuMemoryPlan.StepLimits(512, MAX_SEQS);
        GpuMemoryPlan half = GpuMemoryPlan.plan(H100, L7B, step, new GpuMemoryPlan.KvPolicy(BLOCK, CONTEXT, MAX_SEQS, 0.5, 0));
        assertThat(half.usableBytes()).isEqualTo(84_463_129_088L / 2);
        // (42,231,564,544 − 3,971,618,816 − 135,636,992) / 16,777,216 = 2272.8 → 2272
        assertThat(half.kvBlocks()).isEqualTo(2272);
        assertThatThrownBy(() -> new GpuMemoryPlan.KvPolicy(BLOCK, CONTEXT, MAX_SEQS, 1.5, 0))
                .isInstanceOf(IllegalArgumentException.class);
    }

    /** The hypothetical-checkpoint formula and the real tensors agree to the byte on every GPTQ fixture. */
    @ParameterizedTest
    @ValueSource(strings = {"stories260K-gptq-4bit-32g-actorder", "stories260K-gptq-3bit-32g-actorder",
            "stories260K-gptq-4bit-64g", "stories260K-gptq-4bit-nogroup", "stories260K-gptq-8bit-nogroup",
            "stories260K-gptq-2bit-32g", "stories260K-gptq-legacy-4bit-32g"})
    void configFormulaMatchesTheRealTensors(String dir) {
        GptqOverrides overrides = dir.contains("legacy") ? new GptqOverrides(4, 32, false) : GptqOverrides.NONE;
        try (LlamaCheckpoint ck = LlamaCheckpoint.open(SharedModels.require(dir), overrides)) {
            GptqSpec spec = ck.gptqSpec().orElseThrow();
            long real = GpuFootprint.weightBytes(ck.weights());
            assertThat(GpuFootprint.weightBytes(ck.config(), spec.bits(), spec.groupSize(), spec.descAct()))
                    .isEqualTo(real);
            // config.json says tied, yet the file stores lm_head.weight beside the embedding, and both are uploaded.
            assertThat(ck.config().tieWordEmbeddings()).isTrue();
            LlamaWeights w = ck.weights();
            assertThat(((DenseLinear) w.lmHead()).weight()).isNotSameAs(w.embedding());
            // Where lm_head is the embedding tensor itself (a tied file without lm_head.weight) it counts once.
            var tied = new LlamaWeights(w.config(), w.embedding(), w.layers(), w.finalNorm(), new DenseLinear(w.embedding()));
            assertThat(real - GpuFootprint.weightBytes(tied)).isEqualTo(512L * 64 * 2);
        }
    }

    /**
     * stories260K 4-bit g32 act-order by hand: per block, q and o (64→64), k and v (64→32), gate and up (64→192),
     * down (192→64). A 4-bit g32 layer of in × out: qweight in/8 · out · 4, qzeros in/32 groups · out/8 words · 4,
     * scales in/32 · out · 2, g_idx and the permutation 4·in each. Where out % 64 == 0 (q, o, gate, up, down) the
     * layer is in the tiled layout instead: qtiles in/8 · out · 4, zeros16 in/32 groups · out · 2, scales, tileGroup
     * 4·in/16 and the permutation 4·in.
     */
    @Test
    void stories260KActOrderByHand() {
        long q = gptq(64, 64), kv = gptq(64, 32), gateUp = gptq(64, 192), down = gptq(192, 64);
        assertThat(q).isEqualTo(2048 + 2 * 64 * 2 + 2 * 64 * 2 + 16 + 256);     // 2832
        assertThat(kv).isEqualTo(1024 + 2 * 4 * 4 + 2 * 32 * 2 + 2 * 256);      // 1696
        assertThat(gateUp).isEqualTo(6144 + 2 * 192 * 2 + 2 * 192 * 2 + 16 + 256); // 7952
        assertThat(down).isEqualTo(6144 + 6 * 64 * 2 + 6 * 64 * 2 + 48 + 768);    // 8496
        long perBlock = 2 * q + 2 * kv + 2 * gateUp + down + 2 * 64 * 4;        // 33,456 + 512 of norms
        // Five blocks, the fp16 embedding and lm_head (stored apart although tied, see GpuFootprint), the final
        // norm, RoPE 2 · 512 positions · 4 · 4 bytes.
        long expected = 5 * perBlock + 2 * 512 * 64 * 2 + 64 * 4 + 2L * 512 * 4 * 4;
        assertThat(expected).isEqualTo(5 * 33_968 + 131_072 + 256 + 16_384).isEqualTo(317_552);
        LlamaConfig c = stories260K();
        assertThat(GpuFootprint.weightBytes(c, 4, 32, true)).isEqualTo(expected);
        // Without act-order each block's seven layers lose their permutations, 4·in each.
        long perms = 4L * (6 * 64 + 192);
        assertThat(GpuFootprint.weightBytes(c, 4, 32, false)).isEqualTo(expected - 5 * perms);
        // One group: g_idx is all zeros, already sorted, so act-order adds no permutation.
        assertThat(GpuFootprint.weightBytes(c, 4, -1, true)).isEqualTo(GpuFootprint.weightBytes(c, 4, -1, false));
    }

    private static long gptq(int in, int out) {
        return GpuFootprint.gptqBytes(in, out, 4, 32, true);
    }

    /**
     * The other widths by hand, 64→64 g32 act-order (2 groups, permutation 256 bytes), all tiled: qtiles in·out·b/8
     * (4096 / 1024 / 1536 at 8 / 2 / 3 bits; 3 bits: 96 words a 16×64 tile, 4 tiles), zeros16 2 · 64 · 2 = 256,
     * scales 256, tileGroup 4 · 4 = 16, perm 256.
     */
    @Test
    void eightTwoAndThreeBitLayersByHand() {
        assertThat(GpuFootprint.gptqBytes(64, 64, 8, 32, true)).isEqualTo(4096 + 256 + 256 + 16 + 256);
        assertThat(GpuFootprint.gptqBytes(64, 64, 2, 32, true)).isEqualTo(1024 + 256 + 256 + 16 + 256);
        assertThat(GpuFootprint.gptqBytes(64, 64, 3, 32, true)).isEqualTo(4 * 96 * 4 + 256 + 256 + 16 + 256);
        // 3 bits, out % 64 != 0: untiled, qweight 64·3/32 = 6 rows · 32 · 4 = 768, qzeros 2 groups · 3 words · 4 = 24,
        // scales 128, g_idx 256, perm 256
        assertThat(GpuFootprint.gptqBytes(64, 32, 3, 32, true)).isEqualTo(768 + 24 + 128 + 256 + 256);
        // out % 64 != 0: the 8-bit layer keeps qweight (64 · 32 bytes), qzeros (2 · 8 words · 4), scales, g_idx, perm
        assertThat(GpuFootprint.gptqBytes(64, 32, 8, 32, true)).isEqualTo(2048 + 64 + 128 + 256 + 256);
    }

    /**
     * LoRA slots of 7B (fp32 A and Bᵀ per layer and module): Σ(in + out) over q, k, v, o = 4 · 8192 and gate, up,
     * down = 3 · 15,104, 78,080 a layer; at rank 16, 4 · 16 · 78,080 · 32 layers = 159,907,840, plus rank and scale
     * 2 · 4 · 7 · 32 = 1,792: 159,909,632 a slot. Eight slots 1,279,277,056, plus per step 512 rows · (1 + 16) · 4
     * = 34,816: 1,279,311,872, taken before the KV pool. H100: 76,016,816,179 − 3,971,618,816 − 135,636,992
     * − 1,279,311,872 = 70,630,248,499 / 16,777,216 → 4209 blocks (4286 without).
     */
    @Test
    void adapterSlotsComeOutOfTheKvPool() {
        assertThat(GpuFootprint.adapterSlotBytes(L7B.config(), 16)).isEqualTo(159_909_632L);
        GpuMemoryPlan p = GpuMemoryPlan.plan(H100, L7B, new GpuMemoryPlan.StepLimits(512, MAX_SEQS),
                new GpuMemoryPlan.Adapters(8, 16), GpuMemoryPlan.KvPolicy.automatic(BLOCK, CONTEXT, MAX_SEQS));
        assertThat(p.adapterBytes()).isEqualTo(1_279_311_872L);
        assertThat(p.kvBlocks()).isEqualTo(4209);
        assertThat(p.headroomBytes()).isEqualTo(70_630_248_499L - 4209L * 16_777_216).isLessThan(16_777_216L);
        assertThat(p.summary()).contains("step scratch 129.4 MiB (512 rows) + LoRA adapters 1.2 GiB (8 slots, rank ≤ 16) + KV");
        assertThat(plan(H100, L7B, 512).adapterBytes()).isZero();
        assertThat(plan(H100, L7B, 512).summary()).doesNotContain("LoRA");
    }

    /**
     * 32 slots of rank 64 for 7B on a 24 GB card: 639,633,152 a slot (4 · 64 · 78,080 · 32 + 1,792), 20,468,260,864,
     * plus 512 · 65 · 4 = 133,120 per step: 19.1 GiB, which with the weights, scratch and one 2 GiB context passes
     * the 22,376,816,179 usable. Slots that fit: (22,376,816,179 − 3,971,618,816 − 135,636,992 − 2,147,483,648
     * − 133,120) / 639,633,152 = 25.2 → 25.
     */
    @Test
    void tooManyAdapterSlotsFailWithTheArithmeticAndHowManyWouldFit() {
        assertThatThrownBy(() -> GpuMemoryPlan.plan(CARD24, L7B, new GpuMemoryPlan.StepLimits(512, MAX_SEQS),
                new GpuMemoryPlan.Adapters(32, 64), GpuMemoryPlan.KvPolicy.automatic(BLOCK, CONTEXT, MAX_SEQS)))
                .isInstanceOf(GpuMemoryPlanException.class)
                .hasMessageContaining("step scratch 129.4 MiB (512 rows) + LoRA adapters 19.1 GiB (32 slots, rank ≤ 64) "
                        + "+ KV for one 2048-token context 2.0 GiB")
                .hasMessageContaining("fewer LoRA adapter slots (at most 25; each takes 610.0 MiB at rank 64) or a lower "
                        + "maximum LoRA rank");
    }

    private static LlamaConfig stories260K() {
        return new LlamaConfig(64, 192, 5, 8, 4, 8, 512, 512, 1e-5f, 10000f, true, 1, 2, List.of(2), "float16", null);
    }

}
