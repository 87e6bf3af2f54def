package io.paddock.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.paddock.kvcache.KvCacheManager;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.function.ToIntFunction;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class SchedulerTests {
    private static final int NO_LIMIT = 1 << 20;
    private static final ToIntFunction<Sequence> COUNTING = s -> 100 + s.numOutputTokens();

    /** Scheduler limits from the engine settings that matter to the scheduler. */
    static SchedulerConfig config(int maxSeqs, int budget, int blockSize, int maxModelLen, boolean prefix,
            int numBlocks) {
        return new SchedulerConfig(new EngineConfig(blockSize, 0, maxSeqs, budget, prefix, 0), maxModelLen, numBlocks);
    }

    private static Scheduler scheduler(int maxSeqs, int budget, int blockSize, int maxModelLen, boolean prefix,
            int numBlocks) {
        SchedulerConfig c = config(maxSeqs, budget, blockSize, maxModelLen, prefix, numBlocks);
        return new Scheduler(c, new KvCacheManager(numBlocks, blockSize, prefix));
    }

    private static Sequence seq(long id, int promptLength, int maxTokens) {
        int[] prompt = IntStream.range(0, promptLength).map(i -> (int) (id * 10_000 + i)).toArray();
        return new Sequence(id, prompt, maxTokens, Set.of(), NO_LIMIT);
    }

    private static List<Integer> chunkSizes(SchedulerOutput out) {
        return out.chunks().stream().map(ScheduledChunk::numTokens).toList();
    }

    private static ScheduledChunk chunkOf(SchedulerOutput out, Sequence s) {
        return out.chunks().stream().filter(c -> c.seq() == s).findFirst().orElseThrow();
    }

    // ---- budgets and chunked prefill ----

    @Test
    void a1000TokenPromptIsChunkedToTheBudget() {
        Scheduler sched = scheduler(8, 256, 16, 4096, false, 1024);
        Sequence s = seq(1, 1000, 4);
        sched.add(s);
        int[] starts = {0, 256, 512, 768};
        int[] sizes = {256, 256, 256, 232};
        for (int step = 0; step < 4; step++) {
            SchedulerOutput out = sched.schedule();
            ScheduledChunk c = out.chunks().getFirst();
            assertThat(c.startPos()).isEqualTo(starts[step]);
            assertThat(c.numTokens()).isEqualTo(sizes[step]);
            assertThat(c.tokens()).containsExactly(Arrays.copyOfRange(s.allTokens(), starts[step],
                    starts[step] + sizes[step]));
            assertThat(c.blockTable()).hasSize((starts[step] + sizes[step] + 15) / 16);
            assertThat(c.wantLogits()).isEqualTo(step == 3);
            assertThat(sched.update(out, COUNTING)).isEmpty();
        }
        assertThat(s.numOutputTokens()).isEqualTo(1);
        SchedulerOutput decode = sched.schedule();
        assertThat(chunkSizes(decode)).containsExactly(1);
        assertThat(decode.chunks().getFirst().startPos()).isEqualTo(1000);
        assertThat(decode.chunks().getFirst().tokens()).containsExactly(100);
    }

    @Test
    void runningDecodesKeepTheirTokenWhileALongPromptIsChunked() {
        // 3 decodes take 3 tokens of the 259-token budget; the prompt gets the other 256 each step.
        Scheduler sched = scheduler(8, 259, 16, 4096, false, 1024);
        List<Sequence> decodes = List.of(seq(1, 10, 100), seq(2, 12, 100), seq(3, 7, 100));
        decodes.forEach(sched::add);
        SchedulerOutput first = sched.schedule();
        assertThat(chunkSizes(first)).containsExactly(10, 12, 7);
        sched.update(first, COUNTING);

        Sequence prompt = seq(4, 1000, 10);
        sched.add(prompt);
        int[] sizes = {256, 256, 256, 232};
        for (int step = 0; step < 4; step++) {
            SchedulerOutput out = sched.schedule();
            assertThat(chunkSizes(out)).containsExactly(1, 1, 1, sizes[step]);
            assertThat(out.chunks().subList(0, 3)).allMatch(ScheduledChunk::wantLogits);
            assertThat(out.totalTokens()).isEqualTo(3 + sizes[step]);
            assertThat(sched.lastBatchSize()).isEqualTo(4);
            assertThat(sched.lastBatchTokens()).isEqualTo(3 + sizes[step]);
            sched.update(out, COUNTING);
        }
        for (Sequence d : decodes) assertThat(d.numOutputTokens()).isEqualTo(5);
        assertThat(prompt.numOutputTokens()).isEqualTo(1);
    }

    @Test
    void withTheBudgetUsedUpTheNewestRunningSequencesWait() {
        Scheduler sched = scheduler(4, 4, 16, 4096, false, 64);
        Sequence a = seq(1, 3, 10);
        Sequence b = seq(2, 3, 10);
        sched.add(a);
        sched.add(b);
        SchedulerOutput out = sched.schedule();
        assertThat(chunkSizes(out)).containsExactly(3, 1); // b's prompt is chunked to the rest of the budget
        assertThat(chunkOf(out, b).wantLogits()).isFalse();
    }

    @Test
    void maxNumSeqsCapsTheRunningSet() {
        Scheduler sched = scheduler(2, 64, 16, 4096, false, 64);
        Sequence[] s = {seq(1, 5, 10), seq(2, 5, 10), seq(3, 5, 10), seq(4, 5, 10)};
        for (Sequence x : s) sched.add(x);
        SchedulerOutput out = sched.schedule();
        assertThat(out.chunks()).extracting(ScheduledChunk::seq).containsExactly(s[0], s[1]);
        assertThat(sched.runningCount()).isEqualTo(2);
        assertThat(sched.waitingCount()).isEqualTo(2);
        sched.update(out, COUNTING);
        sched.finish(s[0], FinishReason.CANCELLED);
        out = sched.schedule();
        assertThat(out.chunks()).extracting(ScheduledChunk::seq).containsExactly(s[1], s[2]);
        assertThat(chunkSizes(out)).containsExactly(1, 5);
    }

    // ---- finishing ----

    @Test
    void aStopTokenFinishesWithoutBeingAppended() {
        Scheduler sched = scheduler(4, 64, 4, 4096, false, 64);
        Sequence s = new Sequence(1, new int[] {1, 2, 3}, 10, Sequence.stopTokens(2, false, List.of(7)), NO_LIMIT);
        sched.add(s);
        sched.update(sched.schedule(), x -> 5);
        List<Sequence> done = sched.update(sched.schedule(), x -> 7);
        assertThat(done).containsExactly(s);
        assertThat(s.outputIds()).containsExactly(5);
        assertThat(s.finishReason()).isEqualTo(FinishReason.STOP);
        assertThat(s.status()).isEqualTo(SequenceStatus.FINISHED);
        assertThat(sched.kvCache().freeBlocks()).isEqualTo(64);
        assertThat(sched.hasUnfinished()).isFalse();
    }

    @Test
    void eosIsNotAStopTokenWhenIgnored() {
        assertThat(Sequence.stopTokens(2, true, List.of(7))).containsExactly(7);
        assertThat(Sequence.stopTokens(2, false, List.of())).containsExactly(2);
    }

    @Test
    void maxTokensFinishesWithLength() {
        Scheduler sched = scheduler(4, 64, 4, 4096, false, 64);
        Sequence s = seq(1, 3, 3);
        sched.add(s);
        List<Sequence> done = List.of();
        int steps = 0;
        while (done.isEmpty()) {
            done = sched.update(sched.schedule(), COUNTING);
            steps++;
        }
        assertThat(steps).isEqualTo(3);
        assertThat(s.outputIds()).containsExactly(100, 101, 102);
        assertThat(s.finishReason()).isEqualTo(FinishReason.LENGTH);
    }

    @Test
    void theContextLimitFinishesWithLength() {
        Scheduler sched = scheduler(4, 64, 4, 4096, false, 64);
        Sequence s = new Sequence(1, new int[] {1, 2, 3}, 50, Set.of(), 5);
        sched.add(s);
        sched.update(sched.schedule(), COUNTING);
        List<Sequence> done = sched.update(sched.schedule(), COUNTING);
        assertThat(done).containsExactly(s);
        assertThat(s.numTokens()).isEqualTo(5);
        assertThat(s.finishReason()).isEqualTo(FinishReason.LENGTH);
    }

    @Test
    void maxTokensZeroRunsThePromptAndSamplesNothing() {
        Scheduler sched = scheduler(4, 64, 4, 4096, false, 64);
        Sequence s = seq(1, 6, 0);
        sched.add(s);
        List<Sequence> done = sched.update(sched.schedule(), x -> { throw new AssertionError("sampled"); });
        assertThat(done).containsExactly(s);
        assertThat(s.finishReason()).isEqualTo(FinishReason.LENGTH);
        assertThat(s.numOutputTokens()).isZero();
    }

    @Test
    void cancellingFreesBlocksAtOnceFromEitherQueue() {
        Scheduler sched = scheduler(1, 64, 4, 4096, false, 16);
        Sequence running = seq(1, 9, 10);
        Sequence waiting = seq(2, 9, 10);
        sched.add(running);
        sched.add(waiting);
        SchedulerOutput out = sched.schedule();
        assertThat(sched.kvCache().usedBlocks()).isEqualTo(3);

        sched.finish(running, FinishReason.CANCELLED);
        assertThat(sched.kvCache().freeBlocks()).isEqualTo(16);
        assertThat(sched.runningCount()).isZero();
        assertThat(running.finishReason()).isEqualTo(FinishReason.CANCELLED);
        assertThat(sched.update(out, COUNTING)).as("the stale chunk is skipped").isEmpty();
        assertThat(running.numOutputTokens()).isZero();

        sched.finish(waiting, FinishReason.CANCELLED);
        sched.finish(waiting, FinishReason.STOP); // idempotent: the first reason stays
        assertThat(waiting.finishReason()).isEqualTo(FinishReason.CANCELLED);
        assertThat(sched.waitingCount()).isZero();
        assertThat(sched.schedule().isEmpty()).isTrue();
        assertThat(sched.get(2)).isEmpty();
    }

    // ---- admission control ----

    @Test
    void sequencesThatCouldNeverFitAreRejectedUpFront() {
        Scheduler sched = scheduler(4, 64, 16, 256, false, 8); // 8 blocks = 128 tokens
        // Admission refuses these before the scheduler sees them; here they are an engine bug.
        assertThatThrownBy(() -> sched.add(seq(1, 200, 100)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("exceeds the maximum context length of 256");
        assertThatThrownBy(() -> sched.add(seq(2, 100, 29)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("needs 9 KV blocks");
        sched.add(seq(3, 100, 28));
        assertThatThrownBy(() -> sched.add(seq(3, 10, 10))).hasMessageContaining("duplicate sequence id 3");
        Sequence s = seq(4, 10, 10);
        sched.add(s);
        assertThatThrownBy(() -> sched.add(s)).hasMessageContaining("already added");
        assertThat(sched.waitingCount()).isEqualTo(2);
    }

    @Test
    void configIsValidated() {
        assertThatThrownBy(() -> config(0, 64, 16, 256, false, 8)).hasMessageContaining("maxNumSeqs");
        assertThatThrownBy(() -> config(8, 4, 16, 256, false, 8)).hasMessageContaining(">= maxNumSeqs");
        assertThatThrownBy(() -> config(1, 4, 0, 256, false, 8)).hasMessageContaining("blockSize");
        SchedulerConfig c = config(1, 4, 16, 256, false, 8);
        assertThatThrownBy(() -> new Scheduler(c, new KvCacheManager(8, 32, false)))
                .hasMessageContaining("does not match");
    }

    // ---- preemption ----

    @Test
    void theNewestRunningSequenceIsPreemptedAndRecomputesItsTokens() {
        // 4 blocks of 4 tokens; three 4-token prompts fit, but the second decode step needs a block each.
        Scheduler sched = scheduler(4, 64, 4, 64, false, 4);
        Sequence a = seq(1, 4, 8);
        Sequence b = seq(2, 4, 8);
        Sequence c = seq(3, 4, 8);
        sched.add(a);
        sched.add(b);
        sched.add(c);
        sched.update(sched.schedule(), COUNTING);      // prefill: 3 blocks
        assertThat(c.outputIds()).containsExactly(100);

        SchedulerOutput out = sched.schedule();        // a takes the last block; b needs one: c goes
        assertThat(out.preempted()).containsExactly(c);
        assertThat(out.chunks()).extracting(ScheduledChunk::seq).containsExactly(a, b);
        assertThat(c.status()).isEqualTo(SequenceStatus.PREEMPTED);
        assertThat(c.numComputedTokens()).isZero();
        assertThat(c.numPreemptions()).isEqualTo(1);
        assertThat(sched.kvCache().holdsBlocks(3)).isFalse();
        assertThat(sched.waitingCount()).isEqualTo(1);
        assertThat(sched.preemptionsTotal()).isEqualTo(1);
        sched.update(out, COUNTING);

        // a and b decode until a needs its third block: b (now the newest running) goes to the FRONT of the queue.
        SchedulerOutput next;
        do {
            next = sched.schedule();
            sched.update(next, COUNTING);
        } while (next.preempted().isEmpty());
        assertThat(next.preempted()).containsExactly(b);
        assertThat(a.status()).isEqualTo(SequenceStatus.RUNNING);

        // Run to the end; c's recompute chunk covers prompt + its one output token and samples the next one.
        int[] cOutputBefore = c.outputIds();
        ScheduledChunk cRecompute = null;
        while (sched.hasUnfinished()) {
            SchedulerOutput o = sched.schedule();
            for (ScheduledChunk ch : o.chunks()) {
                if (ch.seq() == c && cRecompute == null) cRecompute = ch;
            }
            sched.update(o, COUNTING);
        }
        assertThat(cRecompute).isNotNull();
        assertThat(cRecompute.startPos()).isZero();
        assertThat(cRecompute.numTokens()).isEqualTo(5);
        assertThat(cRecompute.tokens()).containsExactly(10_000 * 3, 10_000 * 3 + 1, 10_000 * 3 + 2,
                10_000 * 3 + 3, 100);
        assertThat(cRecompute.wantLogits()).isTrue();
        assertThat(Arrays.copyOf(c.outputIds(), 1)).containsExactly(cOutputBefore);
        for (Sequence s : List.of(a, b, c)) {
            assertThat(s.outputIds()).containsExactly(100, 101, 102, 103, 104, 105, 106, 107);
            assertThat(s.finishReason()).isEqualTo(FinishReason.LENGTH);
        }
        assertThat(sched.kvCache().freeBlocks()).isEqualTo(4);
    }

    @Test
    void aLoneSequenceThatFitsNeverDeadlocks() {
        Scheduler sched = scheduler(2, 2, 2, 64, false, 5); // 10 token slots, budget 2 per step
        Sequence s = seq(1, 7, 3);
        sched.add(s);
        int steps = 0;
        while (sched.hasUnfinished()) {
            sched.update(sched.schedule(), COUNTING);
            assertThat(++steps).isLessThan(20);
        }
        assertThat(s.outputIds()).containsExactly(100, 101, 102);
        assertThat(sched.preemptionsTotal()).isZero();
    }

    // ---- prefix caching ----

    @Test
    void aSecondSequenceWithTheSame200TokenPrefixStartsAt192() {
        Scheduler sched = scheduler(4, 512, 16, 4096, true, 64);
        int[] prefix = IntStream.range(5000, 5200).toArray();
        Sequence a = new Sequence(1, prefix, 10, Set.of(), NO_LIMIT);
        sched.add(a);
        sched.update(sched.schedule(), COUNTING);

        int[] promptB = Arrays.copyOf(prefix, 230);
        Arrays.fill(promptB, 200, 230, 7);
        Sequence b = new Sequence(2, promptB, 10, Set.of(), NO_LIMIT);
        sched.add(b);
        SchedulerOutput out = sched.schedule();
        ScheduledChunk cb = chunkOf(out, b);
        assertThat(cb.startPos()).isEqualTo(192);
        assertThat(cb.numTokens()).isEqualTo(38);
        assertThat(b.numComputedTokens()).isEqualTo(192);
        assertThat(b.numCachedPromptTokens()).isEqualTo(192);

        KvCacheManager kv = sched.kvCache();
        int[] ta = kv.blockTable(1);
        assertThat(Arrays.copyOf(cb.blockTable(), 12)).containsExactly(Arrays.copyOf(ta, 12));
        for (int i = 0; i < 12; i++) assertThat(kv.refCount(ta[i])).isEqualTo(2);
        assertThat(kv.prefixHitTokens()).isEqualTo(192);

        sched.update(out, COUNTING);
        sched.finish(a, FinishReason.CANCELLED);
        sched.finish(b, FinishReason.CANCELLED);
        assertThat(kv.freeBlocks()).isEqualTo(64);
    }
}
