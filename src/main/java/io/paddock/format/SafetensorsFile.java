package io.paddock.format;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.channels.FileChannel.MapMode;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A safetensors file mapped read-only into memory. Layout: an 8-byte little-endian header length n, n bytes of
 * JSON header, then the data section; each tensor's {@code data_offsets} are relative to the data section.
 *
 * <p>The whole file is mapped with {@link FileChannel#map(MapMode, long, long, Arena)}, which has no 2 GB limit,
 * and tensors are slices of that mapping: weights are never copied onto the Java heap, and the OS pages them in
 * on first touch. The mapping belongs to a shared arena, so tensors can be read from any thread; closing the
 * file unmaps it, after which reading a tensor throws {@link IllegalStateException}.
 */
public final class SafetensorsFile implements AutoCloseable {
    private final Path file;
    private final Arena ownedArena; // null when the caller owns the arena (WeightStore)
    private final MemorySegment mapping; // (fileSize bytes)
    private final long dataStart;
    private final SafetensorsHeader header;
    private final AtomicBoolean closed = new AtomicBoolean();

    private SafetensorsFile(Path file, Arena ownedArena, MemorySegment mapping, long dataStart, SafetensorsHeader header) {
        this.file = file;
        this.ownedArena = ownedArena;
        this.mapping = mapping;
        this.dataStart = dataStart;
        this.header = header;
    }

    /** Maps {@code file} in an arena of its own, released by {@link #close()}. */
    public static SafetensorsFile open(Path file) {
        Arena arena = Arena.ofShared();
        try {
            return map(file, arena, arena);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /**
     * Maps {@code file} into {@code arena}, which the caller owns: {@link #close()} then leaves the mapping alone
     * and it lives until the arena is closed. Lets a store of many shards unmap them all at once.
     */
    public static SafetensorsFile open(Path file, Arena arena) {
        return map(file, arena, null);
    }

    private static SafetensorsFile map(Path file, Arena arena, Arena owned) {
        String where = file.getFileName().toString();
        long size;
        MemorySegment mapping;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            size = ch.size();
            if (size < 8) {
                throw new ModelLoadException(where + ": " + size + " bytes is too small for a safetensors file "
                        + "(file truncated?)");
            }
            // The mapping outlives the channel: closing the channel does not unmap.
            mapping = ch.map(MapMode.READ_ONLY, 0, size, arena);
        } catch (NoSuchFileException e) {
            throw new ModelLoadException(where + ": file not found (" + file + ")", e);
        } catch (IOException e) {
            throw new ModelLoadException(where + ": cannot read (" + e + ")", e);
        }

        long headerLength = mapping.get(LittleEndian.I64, 0);
        if (headerLength <= 0 || headerLength > SafetensorsHeader.MAX_HEADER_BYTES) {
            throw new ModelLoadException(where + ": corrupt safetensors header: header length " + headerLength
                    + " is not in (0, " + SafetensorsHeader.MAX_HEADER_BYTES + "] (not a safetensors file?)");
        }
        if (headerLength > size - 8) {
            throw new ModelLoadException(where + ": header length " + headerLength + " exceeds the " + size
                    + "-byte file (file truncated?)");
        }
        byte[] json = mapping.asSlice(8, headerLength).toArray(ValueLayout.JAVA_BYTE);
        long dataStart = 8 + headerLength;
        SafetensorsHeader header = SafetensorsHeader.parse(json, file, dataStart, size - dataStart);
        return new SafetensorsFile(file, owned, mapping, dataStart, header);
    }

    public Path path() {
        return file;
    }

    /** Bytes of the file: 8 + header length + data section. */
    public long fileSize() {
        return mapping.byteSize();
    }

    /** Absolute offset of the data section (8 + header length). */
    public long dataStart() {
        return dataStart;
    }

    /** Tensors in header order; unmodifiable. */
    public Map<String, TensorInfo> tensors() {
        return header.tensors();
    }

    public boolean contains(String name) {
        return header.tensors().containsKey(name);
    }

    /** The header's {@code __metadata__}; empty when absent; unmodifiable. */
    public Map<String, String> metadata() {
        return header.metadata();
    }

    /** A view of the tensor's bytes in the mapping (no copy). */
    public Tensor tensor(String name) {
        TensorInfo info = header.tensors().get(name);
        if (info == null) {
            throw new ModelLoadException(file.getFileName() + ": no tensor '" + name + "'");
        }
        return new Tensor(info, mapping.asSlice(info.dataOffset(), info.byteSize()));
    }

    /** Unmaps the file if it owns its arena; idempotent. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true) && ownedArena != null) ownedArena.close();
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + file + ", " + header.tensors().size() + " tensors]";
    }

    static boolean isSafetensors(Path p) {
        return Files.isRegularFile(p) && p.getFileName().toString().endsWith(".safetensors");
    }
}
