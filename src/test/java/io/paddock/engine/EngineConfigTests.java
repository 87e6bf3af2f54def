package io.paddock.engine;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class EngineConfigTests {

    @Test
    void defaultsAreTheDefaultConstants() {
        assertThat(EngineConfig.defaults()).isEqualTo(new EngineConfig(EngineConfig.DEFAULT_BLOCK_SIZE,
                EngineConfig.DEFAULT_KV_CACHE_BYTES, EngineConfig.DEFAULT_MAX_NUM_SEQS,
                EngineConfig.DEFAULT_MAX_NUM_BATCHED_TOKENS, EngineConfig.DEFAULT_PREFIX_CACHING,
                EngineConfig.DEFAULT_MAX_QUEUED));
    }

    @Test
    void withersChangeOneSetting() {
        EngineConfig d = EngineConfig.defaults();
        assertThat(d.withMaxNumSeqs(1)).isEqualTo(new EngineConfig(d.blockSize(), d.kvCacheBytes(), 1,
                d.maxNumBatchedTokens(), d.prefixCaching(), d.maxQueued()));
        assertThat(d.withBlockSize(32).blockSize()).isEqualTo(32);
        assertThat(d.withKvCacheBytes(1 << 20).kvCacheBytes()).isEqualTo(1 << 20);
        assertThat(d.withMaxNumBatchedTokens(8).maxNumBatchedTokens()).isEqualTo(8);
        assertThat(d.withPrefixCaching(false).prefixCaching()).isFalse();
        assertThat(d.withMaxQueued(1).maxQueued()).isEqualTo(1);
    }

    @Test
    void schedulerConfigIsDerivedWithABudgetOfAtLeastOneTokenPerSequence() {
        EngineConfig e = EngineConfig.defaults().withMaxNumSeqs(8).withMaxNumBatchedTokens(4).withPrefixCaching(false);
        SchedulerConfig s = e.schedulerConfig(256, 10);
        assertThat(s.maxNumSeqs()).isEqualTo(8);
        assertThat(s.maxNumBatchedTokens()).isEqualTo(8).isEqualTo(e.stepTokenBudget());
        assertThat(s.blockSize()).isEqualTo(e.blockSize());
        assertThat(s.prefixCaching()).isFalse();
        assertThat(s.maxModelLen()).isEqualTo(256);
        assertThat(s.numBlocks()).isEqualTo(10);
        assertThat(EngineConfig.defaults().schedulerConfig(256, 10).maxNumBatchedTokens())
                .isEqualTo(EngineConfig.DEFAULT_MAX_NUM_BATCHED_TOKENS);
    }
}
