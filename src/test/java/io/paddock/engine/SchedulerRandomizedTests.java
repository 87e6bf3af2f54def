package io.paddock.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.paddock.kvcache.BlockHasher;
import io.paddock.kvcache.KvCacheManager;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.ToIntFunction;
import org.junit.jupiter.api.Test;

/**
 * Random workloads on pools small enough to force preemption, driven through a fake runtime that "writes KV" as a
 * fingerprint of each position's whole prefix. Reading a slot checks that the block table really holds this
 * sequence's history, so a wrongly shared prefix block, a block handed out twice or a lost write all show up.
 */
class SchedulerRandomizedTests {
    private static final int STOP = 0;
    private static final int NO_LIMIT = 1 << 20;

    /** Prefix fingerprints of a sequence: what correct KV at each position would depend on. */
    private static long[] fingerprints(Sequence s) {
        long[] fp = new long[s.numTokens()];
        long h = 0x51ED_270B_5B6F_1A2DL;
        for (int p = 0; p < fp.length; p++) {
            h = (h ^ (s.tokenAt(p) + 1L)) * 0x100000001B3L;
            h ^= h >>> 29;
            fp[p] = h;
        }
        return fp;
    }

    /** Plays the model: checks what a chunk reads, then writes its positions. */
    private static final class FakeRuntime {
        private final long[] kv; // (numBlocks * blockSize) fingerprint per slot, -1 = never written
        private final int blockSize;
        private final KvCacheManager cache;

        FakeRuntime(KvCacheManager cache) {
            this.cache = cache;
            this.blockSize = cache.blockSize();
            this.kv = new long[cache.numBlocks() * blockSize];
            Arrays.fill(kv, -1);
        }

        void execute(SchedulerOutput out) {
            for (ScheduledChunk c : out.chunks()) {
                long[] fp = fingerprints(c.seq());
                int[] table = c.blockTable();
                int end = c.startPos() + c.numTokens();
                assertThat(table.length).isGreaterThanOrEqualTo((end + blockSize - 1) / blockSize);
                for (int p = 0; p < c.startPos(); p++) {
                    long got = kv[table[p / blockSize] * blockSize + p % blockSize];
                    if (got != fp[p]) {
                        throw new AssertionError(c.seq() + " reads wrong KV at position " + p + " (block "
                                + table[p / blockSize] + ")");
                    }
                }
                for (int p = c.startPos(); p < end; p++) {
                    int block = table[p / blockSize];
                    if (cache.refCount(block) != 1) {
                        throw new AssertionError(c.seq() + " writes into shared block " + block);
                    }
                    kv[block * blockSize + p % blockSize] = fp[p];
                }
            }
        }
    }

    private record Setup(SchedulerConfig config, BlockHasher hasher, boolean exactHashes) {

        static Setup random(Random rnd) {
            int blockSize = new int[] {1, 2, 4, 16}[rnd.nextInt(4)];
            int numBlocks = 4 + rnd.nextInt(blockSize == 1 ? 60 : 24);
            int maxSeqs = 1 + rnd.nextInt(8);
            int budget = maxSeqs + rnd.nextInt(64);
            boolean prefix = rnd.nextInt(4) != 0;
            int hashKind = rnd.nextInt(3);
            BlockHasher hasher = switch (hashKind) {
                case 0 -> BlockHasher.standard();
                case 1 -> (parent, tokens) -> Arrays.hashCode(tokens) & 3; // ignores the parent, collides a lot
                default -> (parent, tokens) -> 42L;                          // everything collides
            };
            int maxModelLen = numBlocks * blockSize + rnd.nextInt(8);
            return new Setup(SchedulerTests.config(maxSeqs, budget, blockSize, maxModelLen, prefix, numBlocks),
                    hasher, hashKind == 0);
        }

        Scheduler scheduler() {
            SchedulerConfig c = config;
            return new Scheduler(c, new KvCacheManager(c.numBlocks(), c.blockSize(), c.prefixCaching(), hasher));
        }
    }

    private static int[] randomPrompt(Random rnd, int[][] prefixes, int maxLen) {
        int[] base = prefixes[rnd.nextInt(prefixes.length)];
        int fromBase = rnd.nextInt(3) == 0 ? 0 : rnd.nextInt(base.length + 1);
        int len = Math.max(1, Math.min(maxLen, fromBase + rnd.nextInt(12)));
        int[] p = new int[len];
        for (int i = 0; i < len; i++) p[i] = i < fromBase ? base[i] : 1 + rnd.nextInt(6);
        return p;
    }

    @Test
    void randomWorkloadsKeepEveryInvariantAndFinish() {
        long preemptions = 0, hitTokens = 0, evictions = 0, steps = 0, cancelled = 0, stopped = 0;
        for (int seed = 0; seed < 60; seed++) {
            Stats st = runOne(seed);
            preemptions += st.preemptions;
            hitTokens += st.hitTokens;
            evictions += st.evictions;
            steps += st.steps;
            cancelled += st.cancelled;
            stopped += st.stopped;
        }
        // The workload must actually exercise the hard paths.
        assertThat(preemptions).isGreaterThan(100);
        assertThat(hitTokens).isGreaterThan(1000);
        assertThat(evictions).isGreaterThan(100);
        assertThat(cancelled).isGreaterThan(20);
        assertThat(stopped).isGreaterThan(20);
        assertThat(steps).isGreaterThan(60 * 300);
    }

    private record Stats(long preemptions, long hitTokens, long evictions, long steps, long cancelled,
            long stopped) {}

    private Stats runOne(long seed) {
        Random rnd = new Random(seed);
        Setup setup = Setup.random(rnd);
        SchedulerConfig cfg = setup.config;
        Scheduler sched = setup.scheduler();
        KvCacheManager kv = sched.kvCache();
        FakeRuntime runtime = new FakeRuntime(kv);
        int[][] prefixes = new int[3][];
        for (int i = 0; i < prefixes.length; i++) {
            prefixes[i] = new int[rnd.nextInt(3 * cfg.blockSize() + 8)];
            for (int j = 0; j < prefixes[i].length; j++) prefixes[i][j] = 1 + rnd.nextInt(6);
        }
        List<Sequence> added = new ArrayList<>();
        Map<Sequence, int[]> outputsSeen = new HashMap<>();
        long nextId = 0, cancelled = 0;
        int step = 0;
        try {
            for (; step < 300 || sched.hasUnfinished(); step++) {
                assertThat(step).as("no progress").isLessThan(50_000);
                if (step < 300 && rnd.nextInt(100) < 35) {
                    for (int k = 1 + rnd.nextInt(3); k > 0; k--) {
                        Sequence s = randomSequence(rnd, nextId++, prefixes, cfg);
                        if (fits(s, cfg, kv)) {
                            sched.add(s);
                            added.add(s);
                        } else {
                            assertThatThrownBy(() -> sched.add(s)).isInstanceOf(IllegalStateException.class);
                        }
                    }
                }
                SchedulerOutput out = sched.schedule();
                checkOutput(out, sched);
                runtime.execute(out);
                if (rnd.nextInt(100) < 3) cancelled += cancelRandom(rnd, sched, added);
                Set<Sequence> sampledFrom = new HashSet<>();
                ToIntFunction<Sequence> sampled = s -> {
                    assertThat(sampledFrom.add(s)).as("sampled twice in a step").isTrue();
                    return rnd.nextInt(100) < 4 ? STOP : 1 + rnd.nextInt(6);
                };
                for (Sequence done : sched.update(out, sampled)) {
                    assertThat(done.isFinished()).isTrue();
                    assertThat(kv.holdsBlocks(done.id())).isFalse();
                }
                if (rnd.nextInt(100) < 2) cancelled += cancelRandom(rnd, sched, added);
                checkInvariants(sched, added, setup.exactHashes);
                for (Sequence s : added) { // output only ever grows: preemption never resamples
                    int[] before = outputsSeen.getOrDefault(s, new int[0]);
                    if (s.numOutputTokens() == before.length) continue;
                    if (!Arrays.equals(Arrays.copyOf(s.outputIds(), before.length), before)) {
                        throw new AssertionError(s + " rewrote its output");
                    }
                    outputsSeen.put(s, s.outputIds());
                }
            }
            assertThat(added).allMatch(Sequence::isFinished);
            assertThat(kv.freeBlocks()).isEqualTo(kv.numBlocks());
            assertThat(kv.usage()).isZero();
            assertThat(sched.runningCount() + sched.waitingCount()).isZero();
        } catch (AssertionError e) {
            throw new AssertionError("seed " + seed + ", step " + step + ", " + cfg + ": " + e.getMessage(), e);
        }
        long stopped = added.stream().filter(s -> s.finishReason() == FinishReason.STOP).count();
        return new Stats(sched.preemptionsTotal(), kv.prefixHitTokens(), kv.evictions(), step, cancelled, stopped);
    }

    private static Sequence randomSequence(Random rnd, long id, int[][] prefixes, SchedulerConfig cfg) {
        int[] prompt = randomPrompt(rnd, prefixes, cfg.maxModelLen() - 1);
        int maxTokens = rnd.nextInt(20) == 0 ? 0 : 1 + rnd.nextInt(rnd.nextBoolean() ? 8 : 40);
        int limit = rnd.nextInt(5) == 0 ? prompt.length + 1 + rnd.nextInt(6) : NO_LIMIT;
        return new Sequence(id, prompt, maxTokens, Set.of(STOP), limit);
    }

    private static boolean fits(Sequence s, SchedulerConfig cfg, KvCacheManager kv) {
        int total = s.promptLength() + s.maxTokens();
        return total <= cfg.maxModelLen() && kv.blocksNeeded(total) <= kv.numBlocks();
    }

    private static int cancelRandom(Random rnd, Scheduler sched, List<Sequence> added) {
        List<Sequence> live = added.stream().filter(s -> !s.isFinished()).toList();
        if (live.isEmpty()) return 0;
        Sequence victim = live.get(rnd.nextInt(live.size()));
        int free = sched.kvCache().freeBlocks();
        int held = sched.kvCache().blockTable(victim.id()).length;
        sched.finish(victim, FinishReason.CANCELLED);
        assertThat(victim.finishReason()).isEqualTo(FinishReason.CANCELLED);
        assertThat(sched.kvCache().holdsBlocks(victim.id())).isFalse();
        assertThat(sched.kvCache().freeBlocks()).isBetween(free, free + held);
        return 1;
    }

    private static void checkOutput(SchedulerOutput out, Scheduler sched) {
        SchedulerConfig cfg = sched.config();
        int sum = 0;
        Set<Sequence> seen = new HashSet<>();
        for (ScheduledChunk c : out.chunks()) {
            Sequence s = c.seq();
            assertThat(seen.add(s)).as("scheduled twice").isTrue();
            assertThat(s.status()).isEqualTo(SequenceStatus.RUNNING);
            assertThat(c.startPos()).isEqualTo(s.numComputedTokens());
            assertThat(c.numTokens()).isPositive();
            assertThat(c.startPos() + c.numTokens()).isLessThanOrEqualTo(s.numTokens());
            assertThat(c.wantLogits()).isEqualTo(c.startPos() + c.numTokens() == s.numTokens());
            assertThat(c.tokens()).containsExactly(
                    Arrays.copyOfRange(s.allTokens(), c.startPos(), c.startPos() + c.numTokens()));
            assertThat(c.blockTable()).containsExactly(sched.kvCache().blockTable(s.id()));
            sum += c.numTokens();
        }
        for (Sequence p : out.preempted()) {
            assertThat(p.status()).isEqualTo(SequenceStatus.PREEMPTED);
            assertThat(seen).doesNotContain(p);
        }
        assertThat(out.totalTokens()).isEqualTo(sum).isLessThanOrEqualTo(cfg.maxNumBatchedTokens());
        assertThat(sched.runningCount()).isLessThanOrEqualTo(cfg.maxNumSeqs());
    }

    private static void checkInvariants(Scheduler sched, List<Sequence> added, boolean exactHashes) {
        KvCacheManager kv = sched.kvCache();
        int bs = kv.blockSize();
        int[] holders = new int[kv.numBlocks()];
        Map<Integer, List<Sequence>> holdersOf = new HashMap<>();
        int unfinished = 0;
        for (Sequence s : added) {
            if (!s.isFinished()) unfinished++;
            if (s.status() != SequenceStatus.RUNNING) {
                assertThat(kv.holdsBlocks(s.id())).as("%s holds blocks", s).isFalse();
                continue;
            }
            int[] table = kv.blockTable(s.id());
            assertThat(table).as("duplicate block in one table").doesNotHaveDuplicates();
            assertThat(table.length).isGreaterThanOrEqualTo(kv.blocksNeeded(s.numComputedTokens()));
            assertThat(s.numComputedTokens()).isLessThan(s.numTokens());
            for (int b : table) {
                holders[b]++;
                holdersOf.computeIfAbsent(b, x -> new ArrayList<>()).add(s);
            }
        }
        int free = 0;
        for (int b = 0; b < holders.length; b++) {
            if (kv.refCount(b) != holders[b]) {
                throw new AssertionError("block " + b + " has ref count " + kv.refCount(b) + " but " + holders[b]
                        + " block tables hold it");
            }
            if (holders[b] == 0) free++;
            if (holders[b] >= 2) {
                // Only a shared prefix block: full, computed, read-only for every holder.
                if (exactHashes) assertThat(kv.isCached(b)).as("shared block %d is cached", b).isTrue();
                for (Sequence s : holdersOf.get(b)) {
                    int index = Arrays.stream(kv.blockTable(s.id())).boxed().toList().indexOf(b);
                    assertThat((index + 1) * bs).isLessThanOrEqualTo(s.numComputedTokens());
                }
            }
        }
        assertThat(kv.freeBlocks()).isEqualTo(free);
        assertThat(kv.usedBlocks() + kv.freeBlocks()).isEqualTo(kv.numBlocks());
        assertThat(kv.usage()).isBetween(0.0, 1.0);
        assertThat(kv.cachedBlocks()).isLessThanOrEqualTo(kv.numBlocks());
        assertThat(sched.runningCount() + sched.waitingCount()).isEqualTo(unfinished);
    }

    /**
     * The model's next token depends only on the sequence's history, so outputs must not depend on the pool
     * size, the budget, preemption or the prefix cache.
     */
    @Test
    void preemptionChunkingAndPrefixCachingDoNotChangeOutputs() {
        ToIntFunction<Sequence> model = s -> {
            long h = fingerprints(s)[s.numTokens() - 1];
            return (int) Math.floorMod(h, 61L); // 0 = STOP, about one in 61
        };
        long preemptions = 0, hits = 0;
        for (int seed = 0; seed < 20; seed++) {
            Random rnd = new Random(1000 + seed);
            int[][] prefixes = {{1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6, 1, 2}, {6, 5, 4, 3, 2, 1, 6, 5, 4}, {}};
            SchedulerConfig roomy = SchedulerTests.config(64, 4096, 4, 256, false, 4096);
            List<int[]> prompts = new ArrayList<>();
            List<Integer> maxTokens = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                prompts.add(randomPrompt(rnd, prefixes, 30));
                maxTokens.add(1 + rnd.nextInt(33));
            }
            Map<Long, int[]> reference = run(new Scheduler(roomy, new KvCacheManager(4096, 4, false)), prompts,
                    maxTokens, model);
            SchedulerConfig tight = SchedulerTests.config(1 + rnd.nextInt(6), 8 + rnd.nextInt(24), 4, 64, true,
                    16 + rnd.nextInt(8));
            BlockHasher hasher = seed % 2 == 0 ? BlockHasher.standard() : (p, t) -> Arrays.hashCode(t) & 1;
            Scheduler squeezed = new Scheduler(tight, new KvCacheManager(tight.numBlocks(), tight.blockSize(), true,
                    hasher));
            Map<Long, int[]> outputs = run(squeezed, prompts, maxTokens, model);
            for (long id : reference.keySet()) {
                assertThat(outputs.get(id)).as("seed %d, sequence %d", seed, id).containsExactly(reference.get(id));
            }
            preemptions += squeezed.preemptionsTotal();
            hits += squeezed.kvCache().prefixHitTokens();
        }
        assertThat(preemptions).isGreaterThan(50);
        assertThat(hits).isGreaterThan(200);
    }

    private static Map<Long, int[]> run(Scheduler sched, List<int[]> prompts, List<Integer> maxTokens,
            ToIntFunction<Sequence> model) {
        FakeRuntime runtime = new FakeRuntime(sched.kvCache());
        List<Sequence> all = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            Sequence s = new Sequence(i, prompts.get(i), maxTokens.get(i), Set.of(STOP), NO_LIMIT);
            sched.add(s);
            all.add(s);
        }
        for (int step = 0; sched.hasUnfinished(); step++) {
            assertThat(step).isLessThan(100_000);
            SchedulerOutput out = sched.schedule();
            runtime.execute(out);
            sched.update(out, model);
        }
        Map<Long, int[]> outputs = new HashMap<>();
        for (Sequence s : all) outputs.put(s.id(), s.outputIds());
        return outputs;
    }
}
