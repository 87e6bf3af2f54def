package io.paddock.security;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.LongSupplier;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Operators;
import reactor.util.context.Context;
import reactor.util.context.ContextView;

/**
 * One request made with a key, from admission to the end of its response: the key, its token reservation and its
 * concurrency permit. The API layer reaches it in two places:
 * <ul>
 * <li>{@link #current()} while a controller runs, to name the client and reserve tokens. Controllers are plain
 *     methods that see neither the exchange nor the Reactor context, but WebFlux calls a controller that reads a
 *     request body on the thread that delivers the body, inside that delivery: the limits filter delivers the body
 *     of a keyed request with the call bound to the thread ({@link #bindWhileDelivering}), and unbinds it after;
 * <li>{@link #settleWhenDone} on the generation's {@link Flux}, whose Reactor context holds the call.
 * </ul>
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

    private static final ThreadLocal<KeyedCall> CURRENT = new ThreadLocal<>();

    /** The keyed call whose controller is running on this thread, or null for a request without a key. */
    public static KeyedCall current() {
        return CURRENT.get();
    }

    /**
     * {@code body} whose signals reach their subscriber with {@code call} bound to the thread, and unbound when the
     * subscriber returns: the decoding of the body and the controller call that follows it see {@link #current()}.
     */
    static <T> Flux<T> bindWhileDelivering(Flux<T> body, KeyedCall call) {
        Function<? super Publisher<T>, ? extends Publisher<T>> bind = Operators.<T, T>lift(
                (scannable, subscriber) -> new Bound<>(subscriber, call));
        return body.transform(bind);
    }

    private record Bound<T>(CoreSubscriber<? super T> actual, KeyedCall call) implements CoreSubscriber<T> {
        @Override
        public Context currentContext() { return actual.currentContext(); }

        @Override
        public void onSubscribe(Subscription s) { actual.onSubscribe(s); }

        @Override
        public void onNext(T t) { bound(() -> actual.onNext(t)); }

        @Override
        public void onError(Throwable e) { bound(() -> actual.onError(e)); }

        @Override
        public void onComplete() { bound(actual::onComplete); }

        private void bound(Runnable signal) {
            KeyedCall before = CURRENT.get();
            CURRENT.set(call);
            try {
                signal.run();
            } finally {
                if (before == null) CURRENT.remove(); else CURRENT.set(before);
            }
        }
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
