package io.paddock.api;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.paddock.bench.LoadTest;
import io.paddock.bench.PrometheusText;
import io.paddock.testing.SharedModels;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.slf4j.LoggerFactory;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The load test's short form ({@code paddock bench load} in full): 200 concurrent streaming chats on stories260K, a
 * fifth disconnecting mid-stream, and a burst beyond the admission limit (224 queued + 32 running). Every request that was
 * not disconnected completes or gets a 429/503 with an OpenAI error; no 5xx; afterwards every KV block is free
 * (read from /metrics), no thread is left behind and Netty's paranoid leak detector reports nothing.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
    "paddock.engine.max-queued=224", "paddock.engine.max-num-seqs=32", "logging.level.io.netty=INFO"})
@EnabledIf(value = "io.paddock.testing.SharedModels#stories260KAvailable",
        disabledReason = "../shared/models/stories260K is absent")
class LoadIT {
    static {
        System.setProperty("io.netty.leakDetection.level", "paranoid");
    }

    @LocalServerPort
    int port;

    private final ListAppender<ILoggingEvent> leaks = new ListAppender<>();

    @DynamicPropertySource
    static void model(DynamicPropertyRegistry r) {
        r.add("paddock.model.path", () -> SharedModels.root().resolve("stories260K").toString());
    }

    @BeforeEach
    void watchLeaks() {
        leaks.start();
        ((Logger) LoggerFactory.getLogger("io.netty.util.ResourceLeakDetector")).addAppender(leaks);
    }

    @AfterEach
    void stopWatching() {
        ((Logger) LoggerFactory.getLogger("io.netty.util.ResourceLeakDetector")).detachAppender(leaks);
    }

    /**
     * The server's live threads: Netty's event loops, Reactor's schedulers, the engine thread. Left out: the test's own
     * HTTP clients, the JDK's virtual-thread carriers and pollers, and Reactor's bounded-elastic workers (a pool capped
     * at ten per core whose idle workers end after 60 s, so a worker alive after the load is not a leak).
     */
    private static Set<String> threadNames() {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
                .filter(n -> !n.startsWith("HttpClient-") && !n.startsWith("ForkJoinPool") && !n.endsWith("Poller")
                        && !n.startsWith("boundedElastic-"))
                .collect(Collectors.toSet());
    }

    @Test
    void overloadIsRefusedByDesignAndLeavesNothingBehind() throws Exception {
        URI base = URI.create("http://localhost:" + port);
        // Warm up: one request, so the thread pools exist before the baseline is taken.
        LoadTest.run(new LoadTest.Options(base, 4, 0, 0, 8, 7, null), new PrintStream(new ByteArrayOutputStream()));
        Set<String> threadsBefore = threadNames();

        ByteArrayOutputStream log = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(log, true, StandardCharsets.UTF_8);
        LoadTest.Report report = LoadTest.run(new LoadTest.Options(base, 200, 0.2, 150, 48, 1, null), out);
        System.out.print(log.toString(StandardCharsets.UTF_8));

        assertThat(report.failures()).as("requests neither completed nor refused by design").isEmpty();
        assertThat(report.disconnected()).as("clients that went away mid-stream (others were refused first)").isPositive();
        assertThat(report.completed() + report.refused503() + report.refused429() + report.disconnected()
                + report.burstCompleted()).isEqualTo(report.streams() + report.burst());
        assertThat(report.refused503()).as("the burst went past the admission limit").isPositive();
        assertThat(report.completed()).isPositive();

        PrometheusText after = LoadTest.awaitIdle(base, Duration.ofSeconds(30));
        assertThat(after.sum("paddock_kv_cache_blocks_used")).as("KV blocks held after the load").isZero();
        assertThat(after.sum("paddock_requests_running") + after.sum("paddock_requests_waiting")).isZero();

        System.gc();
        Thread.sleep(500);
        // Paranoid detection reports a leaked buffer when the next buffers are allocated: drive a few requests.
        LoadTest.run(new LoadTest.Options(base, 8, 0, 0, 4, 9, null), new PrintStream(new ByteArrayOutputStream()));
        assertThat(leaks.list).as("Netty buffer leaks").isEmpty();
        Thread.sleep(200);
        Set<String> added = new TreeSet<>(threadNames());
        added.removeAll(threadsBefore);
        assertThat(added).as("server threads started by the load and still alive").isEmpty();
    }
}
