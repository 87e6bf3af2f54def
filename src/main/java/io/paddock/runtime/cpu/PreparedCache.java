package io.paddock.runtime.cpu;

import io.paddock.model.GptqLinear;
import io.paddock.model.GptqSpec;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The prepared-weights cache: the fused-kernel tile streams of every GPTQ layer ({@link GptqMatrix}), written once to
 * a file and memory-mapped read-only on later loads, so that the process holds one copy of the weights, paged by the
 * OS, and a warm load does no repacking.
 *
 * <p><b>File.</b> {@code <dir>/<model>-<identity>.gptq}, identity a hash of the source paths, the layer names and
 * GPTQ settings and the vector width. Inside: a header (magic, {@link #LAYOUT_VERSION}, lanes, the 32-byte
 * fingerprint, the layer count, the file size, then per layer in, out, bits, groups, padded inputs, block bytes and
 * the offset of its tiles), then each layer's tiles, page aligned, in native int order. The fingerprint hashes the
 * identity plus each source file's size, modification time and safetensors header (so tensor offsets and shapes),
 * or, for weights with no known source file, the bytes of every GPTQ tensor. The permutation, group tables and bias
 * are recomputed from the source on every load (one pass over {@code g_idx}) and must agree with the header.
 *
 * <p><b>Trust.</b> A file whose size, magic, version, lane count, fingerprint or layer table do not match is
 * rebuilt, never used. A new file is written under a temporary name, header last, and renamed over the old one
 * atomically, so a reader never sees a half-written file and two processes preparing the same model at once each
 * rename a complete file. Preparation streams layer by layer (each layer's tiles exist on the heap only while they
 * are written), so a model larger than memory can be prepared. Where the directory cannot be written or lacks the
 * space, one warning line and the in-memory preparation of before.
 */
public final class PreparedCache {
    /** Version of the tile layout and of this file format; bump on any change to either. */
    public static final int LAYOUT_VERSION = 1;
    static final long MAGIC = 0x3151544750444150L; // "PADPGTQ1" little-endian
    static final int FIXED_HEADER = 64;
    static final int ENTRY = 48;
    static final long PAGE = 4096;
    static final String SUFFIX = ".gptq";
    private static final long PROGRESS_NANOS = 5_000_000_000L;
    private static final long SPACE_MARGIN = 256L << 20;

    /** No cache: every load prepares the layers in memory. */
    public static final PreparedCache OFF = new PreparedCache(null, List.of(), System.err);

    private final Path dir;            // null: off
    private final List<Path> sources;  // the checkpoint's weight files, or empty when unknown
    private final PrintStream log;

    private PreparedCache(Path dir, List<Path> sources, PrintStream log) {
        this.dir = dir;
        this.sources = List.copyOf(sources);
        this.log = log;
    }

    /** A cache in {@code dir} (created on first write); progress and warnings go to {@code log}. */
    public static PreparedCache at(Path dir, PrintStream log) {
        return new PreparedCache(dir, List.of(), log);
    }

    /** The same cache, fingerprinting the weights by these files (the checkpoint's safetensors files). */
    public PreparedCache withSources(List<Path> files) {
        return new PreparedCache(dir, files, log);
    }

    public boolean enabled() {
        return dir != null;
    }

    public Path dir() {
        return dir;
    }

    /** The prepared layers, and the mapping that holds their tiles (null when they own their memory). */
    record Prepared(GptqMatrix[] matrices, Arena mapping) {
        void close() {
            for (GptqMatrix m : matrices) if (m != null) m.close();
            if (mapping != null) mapping.close();
        }
    }

    /** Prepares {@code layers} (in this order): from the cache file, or building it, or in memory. */
    Prepared prepare(List<GptqLinear> layers, Parallel parallel) {
        if (layers.isEmpty()) return new Prepared(new GptqMatrix[0], null);
        if (dir == null) return inMemory(layers, parallel);
        long start = System.nanoTime();
        GptqMatrix.Plan[] plans = new GptqMatrix.Plan[layers.size()];
        for (int i = 0; i < plans.length; i++) plans[i] = GptqMatrix.plan(layers.get(i));
        Path file;
        byte[] fingerprint;
        try {
            file = dir.resolve(fileName(layers));
            fingerprint = fingerprint(layers);
        } catch (IOException | RuntimeException e) {
            log.println("paddock: cannot fingerprint the GPTQ weights for the prepared-weights cache (" + e
                    + "); preparing them in memory");
            return inMemory(layers, parallel);
        }
        String stale = null;
        if (Files.exists(file)) {
            try {
                Prepared p = map(file, layers, plans, fingerprint);
                log.printf(Locale.ROOT, "GPTQ layers: %d mapped from %s (%.2f GB) in %.1f s%n", layers.size(), file,
                        p.mapping() == null ? 0 : Files.size(file) / 1e9, (System.nanoTime() - start) / 1e9);
                return p;
            } catch (StaleException e) {
                stale = e.getMessage();
            } catch (IOException e) {
                stale = e.toString();
            }
        }
        try {
            if (stale != null) {
                log.println("prepared-weights cache " + file + " is stale (" + stale + "): rebuilding it");
                Files.deleteIfExists(file); // a process still mapping it keeps its copy; frees the space for the new one
            }
            write(file, layers, plans, fingerprint, parallel);
            Prepared p = map(file, layers, plans, fingerprint);
            log.printf(Locale.ROOT, "GPTQ layers: %d prepared into %s (%.2f GB) in %.1f s%n", layers.size(), file,
                    Files.size(file) / 1e9, (System.nanoTime() - start) / 1e9);
            return p;
        } catch (IOException | StaleException | UnsupportedOperationException e) {
            log.println("paddock: the prepared-weights cache " + dir + " cannot be used (" + e
                    + "); preparing the GPTQ layers in memory (set paddock.model.prepared-cache to another directory,"
                    + " or off)");
            return inMemory(layers, parallel);
        }
    }

    /** Today's path: every layer repacked into its own off-heap arena, spread over the threads. */
    static Prepared inMemory(List<GptqLinear> layers, Parallel parallel, PrintStream log) {
        GptqMatrix[] prepared = new GptqMatrix[layers.size()];
        Progress progress = new Progress(layers.size(), log);
        try {
            parallel.forRange(layers.size(), 1, (from, to) -> {
                for (int i = from; i < to; i++) {
                    prepared[i] = GptqMatrix.prepare(layers.get(i));
                    progress.done();
                }
            });
        } catch (RuntimeException e) {
            for (GptqMatrix m : prepared) if (m != null) m.close();
            throw e;
        }
        return new Prepared(prepared, null);
    }

    private Prepared inMemory(List<GptqLinear> layers, Parallel parallel) {
        return inMemory(layers, parallel, log);
    }

    // ---- file name and fingerprint ----

    private String fileName(List<GptqLinear> layers) throws IOException {
        MessageDigest d = sha256();
        identity(d, layers);
        String model = sources.isEmpty() ? "weights" : sources.getFirst().toAbsolutePath().getParent().getFileName()
                .toString().replaceAll("[^A-Za-z0-9._-]", "_");
        return model + "-" + HexFormat.of().formatHex(d.digest(), 0, 8) + SUFFIX;
    }

    private void identity(MessageDigest d, List<GptqLinear> layers) throws IOException {
        update(d, "paddock prepared GPTQ tiles");
        update(d, LANES_AND_ORDER);
        for (Path p : sources) update(d, p.toAbsolutePath().normalize().toString());
        for (GptqLinear l : layers) {
            GptqSpec s = l.spec();
            update(d, l.name() + " " + l.inFeatures() + "x" + l.outFeatures() + " bits " + s.bits() + " group "
                    + s.groupSize() + " act " + s.descAct() + " sym " + s.sym() + " zero+1 " + s.zeroPlusOne());
        }
    }

    private static final String LANES_AND_ORDER = "lanes " + GptqMatrix.LANES + " " + ByteOrder.nativeOrder();

    byte[] fingerprint(List<GptqLinear> layers) throws IOException {
        MessageDigest d = sha256();
        update(d, "version " + LAYOUT_VERSION);
        identity(d, layers);
        if (!sources.isEmpty()) {
            for (Path p : sources) {
                update(d, Files.size(p) + " " + Files.getLastModifiedTime(p).toMillis());
                d.update(safetensorsHeader(p));
            }
        }
        for (GptqLinear l : layers) {
            update(d, l.qweight().info().shapeString() + l.qzeros().info().shapeString()
                    + l.scales().info().shapeString() + (l.gIdx() == null ? "-" : l.gIdx().info().shapeString())
                    + (l.bias() == null ? "-" : l.bias().info().shapeString()));
            if (sources.isEmpty()) { // nothing else identifies weights built in memory: hash their bytes
                hash(d, l.qweight().data());
                hash(d, l.qzeros().data());
                hash(d, l.scales().data());
                if (l.gIdx() != null) hash(d, l.gIdx().data());
                if (l.bias() != null) hash(d, l.bias().data());
            }
        }
        return d.digest();
    }

    private static void hash(MessageDigest d, MemorySegment s) {
        byte[] buf = new byte[1 << 16];
        for (long at = 0; at < s.byteSize(); at += buf.length) {
            int n = (int) Math.min(buf.length, s.byteSize() - at);
            MemorySegment.copy(s, ValueLayout.JAVA_BYTE, at, buf, 0, n);
            d.update(buf, 0, n);
        }
    }

    private static byte[] safetensorsHeader(Path p) throws IOException {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(len, 0);
            long n = len.flip().remaining() == 8 ? len.getLong() : 0;
            if (n <= 0 || n > Math.min(100_000_000L, ch.size() - 8)) throw new IOException(p + ": no safetensors header");
            ByteBuffer header = ByteBuffer.allocate((int) n);
            while (header.hasRemaining()) {
                if (ch.read(header, 8 + header.position()) < 0) throw new IOException(p + ": header cut short");
            }
            return header.array();
        }
    }

    private static void update(MessageDigest d, String s) {
        d.update(s.getBytes(StandardCharsets.UTF_8));
        d.update((byte) 0);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    // ---- layout ----

    static long headerBytes(int layers) {
        return align(FIXED_HEADER + (long) ENTRY * layers, PAGE);
    }

    private static long align(long v, long a) {
        return (v + a - 1) / a * a;
    }

    /** Offsets of each layer's tiles, and the file size as the last element. */
    static long[] offsets(GptqMatrix.Plan[] plans) {
        long[] off = new long[plans.length + 1];
        long at = headerBytes(plans.length);
        for (int i = 0; i < plans.length; i++) {
            off[i] = at;
            at = align(at + plans[i].tileBytes(), PAGE);
        }
        off[plans.length] = at;
        return off;
    }

    // ---- writing ----

    private void write(Path file, List<GptqLinear> layers, GptqMatrix.Plan[] plans, byte[] fingerprint,
                       Parallel parallel) throws IOException {
        Files.createDirectories(dir);
        long[] off = offsets(plans);
        long size = off[plans.length];
        long usable = Files.getFileStore(dir).getUsableSpace();
        if (usable < size + SPACE_MARGIN) {
            throw new IOException(String.format(Locale.ROOT, "%.2f GB needed, %.2f GB free", size / 1e9, usable / 1e9));
        }
        Path tmp = dir.resolve(file.getFileName() + ".tmp-" + ProcessHandle.current().pid() + "-"
                + Long.toHexString(ThreadLocalRandom.current().nextLong()));
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            Progress progress = new Progress(layers.size(), log);
            IOException[] failure = new IOException[1];
            parallel.forRange(layers.size(), 1, (from, to) -> {
                for (int i = from; i < to; i++) {
                    int[] t = GptqMatrix.tiles(layers.get(i), plans[i]);
                    try {
                        writeInts(ch, off[i], t);
                    } catch (IOException e) {
                        synchronized (failure) {
                            if (failure[0] == null) failure[0] = e;
                        }
                        return;
                    }
                    progress.done();
                }
            });
            if (failure[0] != null) throw failure[0];
            ByteBuffer h = ByteBuffer.allocate((int) headerBytes(plans.length)).order(ByteOrder.nativeOrder());
            h.putLong(MAGIC).putInt(LAYOUT_VERSION).putInt(GptqMatrix.LANES).put(fingerprint)
                    .putInt(plans.length).putInt(0).putLong(size);
            for (int i = 0; i < plans.length; i++) {
                GptqMatrix.Plan p = plans[i];
                h.position(FIXED_HEADER + ENTRY * i);
                h.putInt(p.in()).putInt(p.out()).putInt(p.pieces().bits()).putInt(p.groups()).putInt(p.perm().length)
                        .putInt(0).putLong(4 * p.blockInts()).putLong(off[i]).putLong(p.tileBytes());
            }
            h.clear();
            ch.force(false);                 // the tiles reach the disk before a header says they are there
            writeFully(ch, h, 0);
            if (ch.size() < size) writeFully(ch, ByteBuffer.allocate(1), size - 1);
            ch.force(true);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        try {
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
    }

    private static void writeInts(FileChannel ch, long at, int[] t) throws IOException {
        final int chunkInts = 1 << 20;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(4L * Math.min(chunkInts, t.length), 64);
            for (int from = 0; from < t.length; from += chunkInts) {
                int n = Math.min(chunkInts, t.length - from);
                MemorySegment.copy(t, from, buf, ValueLayout.JAVA_INT_UNALIGNED, 0, n);
                writeFully(ch, buf.asSlice(0, 4L * n).asByteBuffer(), at + 4L * from);
            }
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer b, long at) throws IOException {
        while (b.hasRemaining()) at += ch.write(b, at);
    }

    // ---- reading ----

    /** The file is not what this load needs; the message says why. */
    static final class StaleException extends Exception {
        StaleException(String message) {
            super(message);
        }
    }

    private static Prepared map(Path file, List<GptqLinear> layers, GptqMatrix.Plan[] plans, byte[] fingerprint)
            throws IOException, StaleException {
        long[] off = offsets(plans);
        Arena arena = Arena.ofShared();
        GptqMatrix[] out = new GptqMatrix[layers.size()];
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size != off[plans.length]) {
                throw new StaleException("size " + size + ", the layout needs " + off[plans.length]);
            }
            MemorySegment m = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            ValueLayout.OfLong L = ValueLayout.JAVA_LONG_UNALIGNED;
            ValueLayout.OfInt I = ValueLayout.JAVA_INT_UNALIGNED;
            if (m.get(L, 0) != MAGIC) throw new StaleException("not a prepared-weights file");
            if (m.get(I, 8) != LAYOUT_VERSION) throw new StaleException("layout version " + m.get(I, 8) + ", not " + LAYOUT_VERSION);
            if (m.get(I, 12) != GptqMatrix.LANES) throw new StaleException(m.get(I, 12) + " lanes, not " + GptqMatrix.LANES);
            byte[] fp = m.asSlice(16, 32).toArray(ValueLayout.JAVA_BYTE);
            if (!MessageDigest.isEqual(fp, fingerprint)) {
                throw new StaleException("fingerprint differs: the weights or their settings changed");
            }
            if (m.get(I, 48) != plans.length || m.get(L, 56) != size) throw new StaleException("header does not match");
            for (int i = 0; i < plans.length; i++) {
                GptqMatrix.Plan p = plans[i];
                long e = FIXED_HEADER + (long) ENTRY * i;
                if (m.get(I, e) != p.in() || m.get(I, e + 4) != p.out() || m.get(I, e + 8) != p.pieces().bits()
                        || m.get(I, e + 12) != p.groups() || m.get(I, e + 16) != p.perm().length
                        || m.get(L, e + 24) != 4 * p.blockInts() || m.get(L, e + 32) != off[i]
                        || m.get(L, e + 40) != p.tileBytes()) {
                    throw new StaleException("layer " + layers.get(i).name() + " does not match its entry");
                }
                out[i] = GptqMatrix.over(layers.get(i), p, m.asSlice(off[i], p.tileBytes()));
            }
            return new Prepared(out, arena);
        } catch (IOException | StaleException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** One line every few seconds while layers are prepared: done / total. */
    private static final class Progress {
        private final int total;
        private final PrintStream log;
        private final long start = System.nanoTime();
        private final AtomicInteger done = new AtomicInteger();
        private final AtomicLong lastLine = new AtomicLong(start);

        Progress(int total, PrintStream log) {
            this.total = total;
            this.log = log;
        }

        void done() {
            int n = done.incrementAndGet();
            long now = System.nanoTime(), last = lastLine.get();
            if (now - last >= PROGRESS_NANOS && lastLine.compareAndSet(last, now)) {
                log.printf(Locale.ROOT, "preparing GPTQ layers: %d/%d (%d%%), %.0f s%n", n, total, 100L * n / total,
                        (now - start) / 1e9);
            }
        }
    }
}
