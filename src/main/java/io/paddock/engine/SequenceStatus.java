package io.paddock.engine;

/** Where a sequence is in the scheduler. Only RUNNING sequences hold KV blocks. */
public enum SequenceStatus {
    /** Queued, never scheduled. */
    WAITING,
    /** Admitted: holds blocks and is scheduled every step the budget allows. */
    RUNNING,
    /** Gave its blocks to older sequences; back at the front of the queue, will recompute prompt + output. */
    PREEMPTED,
    /** Done; {@link Sequence#finishReason()} says why. */
    FINISHED
}
