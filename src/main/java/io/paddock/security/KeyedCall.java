package io.paddock.security;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Flux;
import reactor.util.context.ContextView;

/**
 * One request made with a key, from admission to the end of its response: the key, its token reservation and its
 * concurrency permit. The API layer reaches it in two places: {@link #of} from the exchange (an attribute the
 * limits filter sets), to name the client and reserve tokens; and {@link #settleWhenDone} on the generation's
 * {@link Flux}, whose Reactor context holds the call.
 */
public final class KeyedCall {
    private final KeyLimits limits;
    private final AtomicLong reserved = new AtomicLong();
    private final AtomicBoolean settled = new AtomicBoolean();
    private final AtomicBoolean finished = new AtomicBoolean();

    KeyedCall(KeyLimits limits) {
        this.limits = limits;
    }

    /** The key's configured name (a metrics tag and the {@code client} of its generation requests). */
    public String name() { return limits.key().name(); }

    /** Whether the key is an admin key (may load and unload LoRA adapters). */
    public boolean admin() { return limits.key().admin(); }

    /** The keyed call of this exchange (set by the limits filter), or null for a request without a key. */
    public static KeyedCall of(ServerWebExchange exchange) {
        return exchange == null ? null : exchange.getAttribute(KeyLimitsFilter.ATTRIBUTE);
    }

    /** Reserves prompt + the most completion tokens the request may produce; throws a 429 over the token limit. */
    public void reserveTokens(long promptTokens, long maxCompletionTokens) {
        long n = limits.reserveTokens(promptTokens + maxCompletionTokens);
        reserved.addAndGet(n);
    }

    /** Once the request has ended: gives back what was reserved beyond what was used. Later calls do nothing. */
    public void settleTokens(long used) {
        if (!settled.compareAndSet(false, true)) return;
        long back = reserved.getAndSet(0) - used;
        if (back > 0) limits.returnTokens(back);
    }

    /** Settles this request's tokens when {@code events} ends (finish, error or cancel) to what {@code used} says. */
    public static <T> Flux<T> settleWhenDone(Flux<T> events, LongSupplier used) {
        return Flux.deferContextual(ctx -> {
            KeyedCall call = from(ctx);
            if (call == null) return events;
            // Before the end reaches the subscriber (doFinally would run after): a non-streamed response is written
            // within that signal, and its x-ratelimit headers should count what this request used.
            return events.doOnTerminate(() -> call.settleTokens(used.getAsLong()))
                    .doOnCancel(() -> call.settleTokens(used.getAsLong()));
        });
    }

    static KeyedCall from(ContextView ctx) {
        return ctx.getOrDefault(KeyedCall.class, null);
    }

    /**
     * The end of the response: a reservation never settled (the request failed before generating) is given back
     * whole, and the concurrency permit is released.
     */
    void finish() {
        if (!finished.compareAndSet(false, true)) return;
        settleTokens(0);
        limits.release();
    }

    @Override
    public String toString() { return "KeyedCall[" + name() + "]"; }
}
