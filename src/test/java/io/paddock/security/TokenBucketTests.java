package io.paddock.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class TokenBucketTests {
    private final AtomicLong now = new AtomicLong(1_000);
    private final long minute = TimeUnit.MINUTES.toNanos(1);
    private final TokenBucket bucket = new TokenBucket(600, minute, now::get);

    @Test
    void reservesUntilEmptyThenSaysHowLongToWait() {
        assertThat(bucket.take(500).granted()).isTrue();
        assertThat(bucket.remaining()).isEqualTo(100);
        TokenBucket.Take refused = bucket.take(200);
        assertThat(refused.granted()).isFalse();
        assertThat(refused.used()).isEqualTo(500);
        // 100 tokens missing at 10 tokens per second.
        assertThat(refused.waitNanos()).isEqualTo(TimeUnit.SECONDS.toNanos(10));
        now.addAndGet(TimeUnit.SECONDS.toNanos(10));
        assertThat(bucket.take(200).granted()).isTrue();
        assertThat(bucket.remaining()).isZero();
    }

    @Test
    void givesBackWhatARequestDidNotUse() {
        bucket.take(600);
        bucket.giveBack(450); // reserved 600, used 150
        assertThat(bucket.remaining()).isEqualTo(450);
        assertThat(bucket.nanosUntilFull()).isEqualTo(TimeUnit.SECONDS.toNanos(15));
        bucket.giveBack(1_000_000);
        assertThat(bucket.remaining()).isEqualTo(600);
        assertThat(bucket.nanosUntilFull()).isZero();
    }

    @Test
    void refillsContinuouslyUpToCapacity() {
        bucket.take(600);
        now.addAndGet(TimeUnit.MILLISECONDS.toNanos(1500));
        assertThat(bucket.remaining()).isEqualTo(15);
        now.addAndGet(TimeUnit.HOURS.toNanos(2));
        assertThat(bucket.remaining()).isEqualTo(600);
    }

    @Test
    void aRequestLargerThanTheBucketCanNeverPass() {
        TokenBucket.Take t = bucket.take(601);
        assertThat(t.granted()).isFalse();
        assertThat(t.waitNanos()).isEqualTo(Long.MAX_VALUE);
        assertThat(bucket.remaining()).isEqualTo(600);
    }

    @Test
    void concurrentTakesNeverOverspend() throws Exception {
        TokenBucket b = new TokenBucket(1000, TimeUnit.DAYS.toNanos(1), now::get);
        AtomicLong granted = new AtomicLong();
        Thread[] threads = new Thread[4];
        for (int i = 0; i < threads.length; i++) {
            threads[i] = Thread.ofPlatform().start(() -> {
                for (int j = 0; j < 500; j++) if (b.take(3).granted()) granted.addAndGet(3);
            });
        }
        for (Thread t : threads) t.join();
        assertThat(granted.get()).isEqualTo(999);
    }
}
