package io.paddock.format;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Builds a safetensors file: declare tensors (name, dtype, shape and where their bytes come from) and metadata,
 * then {@link #write(Path)}. The header is computed from the declarations alone, so the data can be streamed
 * tensor by tensor from callbacks and a multi-GB file never has to exist on the heap. Tensors are laid out
 * contiguously in declaration order; the header JSON is padded with spaces so the data section starts at a
 * multiple of 8. Not thread-safe; one writer builds one file.
 */
public final class SafetensorsWriter {

    /** Writes exactly one tensor's bytes (little-endian, row-major) to {@code out}. */
    @FunctionalInterface
    public interface TensorBytes {
        void writeTo(WritableByteChannel out) throws IOException;
    }

    private record Entry(String name, DType dtype, long[] shape, long byteSize, TensorBytes source) {}

    private static final int CHUNK = 1 << 16;

    private final Map<String, String> metadata = new LinkedHashMap<>();
    private final Map<String, Entry> entries = new LinkedHashMap<>();

    public SafetensorsWriter metadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    /** A tensor whose bytes {@code source} streams when the file is written. */
    public SafetensorsWriter add(String name, DType dtype, long[] shape, TensorBytes source) {
        if (name.equals(SafetensorsHeader.METADATA_KEY)) throw new IllegalArgumentException("reserved name " + name);
        if (entries.containsKey(name)) throw new IllegalArgumentException("duplicate tensor '" + name + "'");
        long elements = 1;
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException("tensor '" + name + "': negative dimension in "
                    + Arrays.toString(shape));
            elements = Math.multiplyExact(elements, d);
        }
        long bytes = Math.multiplyExact(elements, (long) dtype.byteSize());
        entries.put(name, new Entry(name, dtype, shape.clone(), bytes, source));
        return this;
    }

    public SafetensorsWriter add(String name, DType dtype, long[] shape, byte[] data) {
        checkLength(name, dtype, shape, data.length);
        return add(name, dtype, shape, out -> writeFully(out, ByteBuffer.wrap(data)));
    }

    /** Bytes from a segment (heap, native or mapped); written in chunks, so it may exceed 2 GB. */
    public SafetensorsWriter add(String name, DType dtype, long[] shape, MemorySegment data) {
        checkLength(name, dtype, shape, data.byteSize());
        return add(name, dtype, shape, out -> {
            for (long pos = 0; pos < data.byteSize(); pos += CHUNK) {
                long n = Math.min(CHUNK, data.byteSize() - pos);
                writeFully(out, data.asSlice(pos, n).asByteBuffer());
            }
        });
    }

    /** Floats encoded as {@code dtype}: F32, F16 (round to nearest even) or BF16 (round to nearest even). */
    public SafetensorsWriter addFloats(String name, DType dtype, long[] shape, float[] values) {
        if (dtype != DType.F32 && dtype != DType.F16 && dtype != DType.BF16) {
            throw new IllegalArgumentException("tensor '" + name + "': cannot encode floats as " + dtype);
        }
        checkLength(name, dtype, shape, (long) values.length * dtype.byteSize());
        return add(name, dtype, shape, out -> {
            ByteBuffer buf = ByteBuffer.allocate(CHUNK).order(ByteOrder.LITTLE_ENDIAN);
            for (float v : values) {
                if (buf.remaining() < 4) flush(out, buf);
                switch (dtype) {
                    case F32 -> buf.putFloat(v);
                    case F16 -> buf.putShort(HalfFloats.floatToF16(v));
                    default -> buf.putShort(HalfFloats.floatToBf16(v));
                }
            }
            flush(out, buf);
        });
    }

    /** Ints as I32. */
    public SafetensorsWriter addInts(String name, long[] shape, int[] values) {
        checkLength(name, DType.I32, shape, (long) values.length * 4);
        return add(name, DType.I32, shape, out -> {
            ByteBuffer buf = ByteBuffer.allocate(CHUNK).order(ByteOrder.LITTLE_ENDIAN);
            for (int v : values) {
                if (buf.remaining() < 4) flush(out, buf);
                buf.putInt(v);
            }
            flush(out, buf);
        });
    }

    /**
     * The 8-byte length plus the padded JSON header for the tensors declared so far: the bytes that precede the
     * data section.
     */
    public byte[] headerBytes() {
        ObjectNode root = JsonMapper.shared().createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = root.putObject(SafetensorsHeader.METADATA_KEY);
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Entry e : entries.values()) {
            ObjectNode t = root.putObject(e.name());
            t.put("dtype", e.dtype().safetensorsName());
            ArrayNode shape = t.putArray("shape");
            for (long d : e.shape()) shape.add(d);
            t.putArray("data_offsets").add(offset).add(offset + e.byteSize());
            offset += e.byteSize();
        }
        byte[] json = JsonMapper.shared().writeValueAsString(root).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) & ~7;
        ByteBuffer out = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(padded).put(json);
        while (out.hasRemaining()) out.put((byte) ' ');
        return out.array();
    }

    /**
     * Writes the file, replacing any existing one. The data goes to a temporary file in the same directory that
     * is renamed over {@code file} at the end, so a failed write never leaves a truncated weights file behind.
     *
     * @return the file size in bytes
     */
    public long write(Path file) {
        Path dir = file.toAbsolutePath().getParent();
        Path tmp = null;
        try {
            tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
            try {
                // createTempFile makes the file owner-only; a model file is ordinary data others may read.
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
            } catch (UnsupportedOperationException notPosix) {
                // keep the platform default
            }
            long size;
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                writeFully(ch, ByteBuffer.wrap(headerBytes()));
                for (Entry e : entries.values()) {
                    CountingChannel counted = new CountingChannel(ch, e);
                    e.source().writeTo(counted);
                    if (counted.written != e.byteSize()) {
                        throw new IllegalStateException("tensor '" + e.name() + "': source wrote " + counted.written
                                + " bytes, shape " + Arrays.toString(e.shape()) + " of " + e.dtype() + " needs "
                                + e.byteSize());
                    }
                }
                size = ch.size();
            }
            try {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
            tmp = null;
            return size;
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + file + ": " + e.getMessage(), e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // the original failure matters more than a leftover temp file
                }
            }
        }
    }

    private static void checkLength(String name, DType dtype, long[] shape, long bytes) {
        long elements = 1;
        for (long d : shape) elements = Math.multiplyExact(elements, d);
        if (Math.multiplyExact(elements, (long) dtype.byteSize()) != bytes) {
            throw new IllegalArgumentException("tensor '" + name + "': " + bytes + " bytes given, shape "
                    + Arrays.toString(shape) + " of " + dtype + " needs " + elements * dtype.byteSize());
        }
    }

    private static void flush(WritableByteChannel out, ByteBuffer buf) throws IOException {
        buf.flip();
        writeFully(out, buf);
        buf.clear();
    }

    private static void writeFully(WritableByteChannel out, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) out.write(buf);
    }

    /** Refuses bytes past the tensor's end, so a wrong source cannot corrupt the next tensor's offsets. */
    private static final class CountingChannel implements WritableByteChannel {
        private final WritableByteChannel target;
        private final Entry entry;
        long written;

        CountingChannel(WritableByteChannel target, Entry entry) {
            this.target = target;
            this.entry = entry;
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            if (written + src.remaining() > entry.byteSize()) {
                throw new IllegalStateException("tensor '" + entry.name() + "': source wrote more than the "
                        + entry.byteSize() + " bytes its shape " + Arrays.toString(entry.shape()) + " of "
                        + entry.dtype() + " needs");
            }
            int n = target.write(src);
            written += n;
            return n;
        }

        @Override
        public boolean isOpen() {
            return target.isOpen();
        }

        @Override
        public void close() {
            // the writer owns the file channel
        }
    }
}
