package io.paddock.hub;

import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What a pull reports while it runs. Called from several download threads at once. {@link #forStream} picks a
 * redrawn bar for a terminal and one line per file otherwise (a log, a CI job), both on the stream given (stderr).
 */
public interface PullProgress {
    /** The files to download are known: {@code count} files, {@code bytes} in all (already-cached bytes excluded). */
    void planned(int count, long bytes);

    /** {@code path} starts downloading; {@code resumedFrom} bytes were kept from an interrupted download. */
    void started(String path, long size, long resumedFrom);

    /** {@code n} more bytes arrived. */
    void advanced(long n);

    /** {@code path} is in the cache and verified. */
    void finished(String path);

    /** The pull is over (success or not): leave the terminal on a fresh line. */
    void done();

    PullProgress NONE = new PullProgress() {
        @Override public void planned(int count, long bytes) {}
        @Override public void started(String path, long size, long resumedFrom) {}
        @Override public void advanced(long n) {}
        @Override public void finished(String path) {}
        @Override public void done() {}
    };

    /**
     * Whether this process writes to a terminal. Since JDK 22 {@code System.console()} exists even when the streams are
     * redirected, so {@code isTerminal()} decides.
     */
    static boolean onTerminal() {
        var console = System.console();
        return console != null && console.isTerminal();
    }

    /** A bar where {@code terminal}, else plain lines. */
    static PullProgress forStream(PrintStream out, boolean terminal) {
        return terminal ? new Bar(out) : new Lines(out);
    }

    static String size(long bytes) {
        if (bytes < 0) return "? B";
        if (bytes < 1024) return bytes + " B";
        if (bytes < 1024 * 1024) return String.format(Locale.ROOT, "%.1f KiB", bytes / 1024.0);
        if (bytes < 1024L * 1024 * 1024) return String.format(Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024));
        return String.format(Locale.ROOT, "%.2f GiB", bytes / (1024.0 * 1024 * 1024));
    }

    /** One line when a file starts and one when it is done. */
    final class Lines implements PullProgress {
        private final PrintStream out;

        Lines(PrintStream out) { this.out = out; }

        @Override public void planned(int count, long bytes) {
            if (count > 0) out.println("downloading " + count + (count == 1 ? " file, " : " files, ") + size(bytes));
        }

        @Override public void started(String path, long size, long resumedFrom) {
            out.println("  " + path + " (" + size(size) + ")"
                    + (resumedFrom > 0 ? ", resuming at " + size(resumedFrom) : ""));
        }

        @Override public void advanced(long n) {}

        @Override public void finished(String path) { out.println("  " + path + " done"); }

        @Override public void done() {}
    }

    /** One line redrawn in place, at most ten times a second: percent, bytes, files, rate. */
    final class Bar implements PullProgress {
        private static final int WIDTH = 30;
        private final PrintStream out;
        private final AtomicLong total = new AtomicLong(), received = new AtomicLong(), lastDraw = new AtomicLong();
        private final AtomicInteger files = new AtomicInteger(), filesDone = new AtomicInteger();
        private final long start = System.nanoTime();

        Bar(PrintStream out) { this.out = out; }

        @Override public void planned(int count, long bytes) {
            files.set(count);
            total.set(bytes);
            draw(true);
        }

        @Override public void started(String path, long size, long resumedFrom) { advanced(resumedFrom); }

        @Override public void advanced(long n) {
            received.addAndGet(n);
            draw(false);
        }

        @Override public void finished(String path) {
            filesDone.incrementAndGet();
            draw(true);
        }

        @Override public synchronized void done() {
            if (files.get() > 0) out.println();
        }

        private void draw(boolean force) {
            long now = System.nanoTime(), last = lastDraw.get();
            if (!force && now - last < 100_000_000L) return;
            if (!lastDraw.compareAndSet(last, now) && !force) return;
            synchronized (this) {
                long t = Math.max(total.get(), 1), r = received.get();
                int filled = (int) Math.min(WIDTH, r * WIDTH / t);
                double secs = Math.max((now - start) / 1e9, 1e-3);
                out.print(String.format(Locale.ROOT, "\r%3d%% [%s%s] %s / %s, %d/%d files, %s/s   ",
                        Math.min(100, r * 100 / t), "#".repeat(filled), " ".repeat(WIDTH - filled), size(r),
                        size(total.get()), filesDone.get(), files.get(), size((long) (r / secs))));
                out.flush();
            }
        }
    }
}
