package io.paddock.engine;

import java.util.List;

/**
 * What to run this step: running sequences first (arrival order), then newly admitted ones.
 *
 * @param preempted   sequences that lost their blocks this step (the runtime may drop per-sequence state)
 * @param totalTokens sum of the chunks' token counts, at most the token budget
 */
public record SchedulerOutput(List<ScheduledChunk> chunks, List<Sequence> preempted, int totalTokens) {

    public SchedulerOutput {
        chunks = List.copyOf(chunks);
        preempted = List.copyOf(preempted);
    }

    public boolean isEmpty() {
        return chunks.isEmpty();
    }

    public int batchSize() {
        return chunks.size();
    }
}
