package io.paddock.config;

import io.paddock.engine.GenerationService;
import io.paddock.engine.ModelRegistry;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * The first thing a shutdown does (highest lifecycle phase, before the web server stops taking connections):
 * every engine refuses new requests with a 503 and {@code /ready} goes down at once, queued and running requests
 * (streams included) finish, up to {@code paddock.drain-timeout}; then the web server's own graceful shutdown and
 * the engines' close follow, and whatever is still running ends with an error naming the shutdown.
 */
@Component
class GracefulDrain implements SmartLifecycle {
    private static final Logger log = LoggerFactory.getLogger(GracefulDrain.class);

    private final ModelRegistry models;
    private final Duration timeout;
    private volatile boolean running;
    private volatile boolean drained;

    GracefulDrain(ModelRegistry models, PaddockProperties props) {
        this.models = models;
        this.timeout = props.drainTimeout();
    }

    /**
     * Starting after a stop (a context stopped and started again, as Spring's test context cache does between test
     * classes) takes requests again.
     */
    @Override
    public void start() {
        if (drained) models.all().forEach(GenerationService::resume);
        drained = false;
        running = true;
    }

    @Override
    public void stop() {
        running = false;
        drained = true;
        String reason = "the server is shutting down and takes no new requests";
        for (GenerationService s : models.all()) s.drain(reason);
        int pending = models.all().stream().mapToInt(GenerationService::pending).sum();
        log.info("shutting down: draining {} request(s), up to {} s", pending, timeout.toSeconds());
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            for (GenerationService s : models.all()) {
                Duration left = Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
                if (!s.awaitIdle(left)) {
                    log.warn("drain timeout: {} request(s) of model '{}' still running are cut off", s.pending(),
                            s.model().id());
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        log.info("drained");
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    /** Stops before the web server (whose graceful shutdown runs at a lower phase). */
    @Override
    public int getPhase() {
        return SmartLifecycle.DEFAULT_PHASE;
    }
}
