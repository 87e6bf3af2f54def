package io.paddock.format;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * All weight tensors of a model directory, from one or several memory-mapped safetensors files, by name.
 * Which files: see {@link WeightFiles}. All mappings share one arena, so one {@link #close()} unmaps them all
 * and the tensors can be read from any thread until then.
 */
public final class WeightStore implements AutoCloseable {
    private final Path modelDir;
    private final Arena arena;
    private final WeightFiles layout;
    private final List<SafetensorsFile> files;
    private final Map<String, SafetensorsFile> byName; // tensor name -> the file that holds it
    private final AtomicBoolean closed = new AtomicBoolean();

    private WeightStore(Path modelDir, Arena arena, WeightFiles layout, List<SafetensorsFile> files,
            Map<String, SafetensorsFile> byName) {
        this.modelDir = modelDir;
        this.arena = arena;
        this.layout = layout;
        this.files = files;
        this.byName = byName;
    }

    /** Finds and maps the model's weight file(s); {@link ModelLoadException} naming the file at fault otherwise. */
    public static WeightStore open(Path modelDir) {
        WeightFiles layout = WeightFiles.locate(modelDir);
        Arena arena = Arena.ofShared();
        try {
            Map<Path, SafetensorsFile> opened = new LinkedHashMap<>();
            for (Path p : layout.files()) opened.put(p, SafetensorsFile.open(p, arena));
            Map<String, SafetensorsFile> byName = new LinkedHashMap<>();
            if (layout.weightMap() == null) {
                SafetensorsFile only = opened.values().iterator().next();
                for (String name : only.tensors().keySet()) byName.put(name, only);
            } else {
                for (Map.Entry<String, Path> e : layout.weightMap().entrySet()) {
                    SafetensorsFile shard = opened.get(e.getValue());
                    if (!shard.contains(e.getKey())) {
                        throw new ModelLoadException(WeightFiles.INDEX + ": tensor '" + e.getKey() + "' is mapped to "
                                + e.getValue().getFileName() + ", which does not contain it");
                    }
                    byName.put(e.getKey(), shard);
                }
            }
            return new WeightStore(modelDir, arena, layout, List.copyOf(opened.values()),
                    Collections.unmodifiableMap(byName));
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    public Path directory() {
        return modelDir;
    }

    public boolean contains(String name) {
        return byName.containsKey(name);
    }

    /** Tensor names, in file (or index) order; unmodifiable. */
    public Set<String> names() {
        return byName.keySet();
    }

    public TensorInfo info(String name) {
        return fileOf(name).tensors().get(name);
    }

    /** The tensor's bytes in place; {@link ModelLoadException} naming the weights file and tensor if absent. */
    public Tensor tensor(String name) {
        return fileOf(name).tensor(name);
    }

    /**
     * The tensor, checked against what the caller's model code expects.
     *
     * @param allowed       dtypes accepted; empty or null accepts any
     * @param expectedShape expected dimensions, -1 for "any size"; none given means the shape is not checked
     */
    public Tensor require(String name, Set<DType> allowed, long... expectedShape) {
        Tensor t = tensor(name);
        String where = t.info().file().getFileName() + ": tensor '" + name + "'";
        if (allowed != null && !allowed.isEmpty() && !allowed.contains(t.dtype())) {
            String expected = allowed.size() == 1 ? allowed.iterator().next().toString()
                    : "one of " + allowed.stream().sorted().toList();
            throw new ModelLoadException(where + " has dtype " + t.dtype() + ", expected " + expected);
        }
        if (expectedShape != null && expectedShape.length > 0 && !shapeMatches(t.info(), expectedShape)) {
            throw new ModelLoadException(where + " has shape " + t.info().shapeString() + ", expected "
                    + shapeText(expectedShape));
        }
        return t;
    }

    private static boolean shapeMatches(TensorInfo info, long[] expected) {
        if (info.rank() != expected.length) return false;
        for (int i = 0; i < expected.length; i++) {
            if (expected[i] != -1 && expected[i] != info.dim(i)) return false;
        }
        return true;
    }

    private static String shapeText(long[] shape) {
        return Arrays.toString(Arrays.stream(shape).mapToObj(d -> d == -1 ? "*" : Long.toString(d)).toArray());
    }

    /** The mapped weight files, shards in index order. */
    public List<Path> files() {
        return files.stream().map(SafetensorsFile::path).toList();
    }

    /** {@code __metadata__} of the first file (shards carry the same metadata). */
    public Map<String, String> metadata() {
        return files.getFirst().metadata();
    }

    /** Unmaps every file; idempotent. Tensors obtained earlier become unreadable. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) arena.close();
    }

    private SafetensorsFile fileOf(String name) {
        SafetensorsFile f = byName.get(name);
        if (f == null) {
            throw new ModelLoadException(layout.describe() + ": missing tensor '" + name + "'");
        }
        return f;
    }

    @Override
    public String toString() {
        return "WeightStore[" + modelDir + ", " + files.size() + " file(s), " + byName.size() + " tensors]";
    }
}
