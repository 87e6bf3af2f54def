package io.paddock.model;

import io.paddock.format.DType;
import io.paddock.format.SafetensorsFile;
import io.paddock.format.SafetensorsWriter;
import io.paddock.format.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/** Copies a fixture model directory with some tensors or config files replaced, to build broken checkpoints. */
final class GptqFixtureCopy {
    /** A replacement tensor; null in {@link #tensors} drops the tensor. */
    record Replacement(DType dtype, long[] shape, byte[] data) {}

    private final Path source;
    private final Map<String, Replacement> tensors = new LinkedHashMap<>();
    private final Map<String, String> files = new LinkedHashMap<>();
    private final Set<String> removedFiles = new HashSet<>();

    GptqFixtureCopy(Path source) {
        this.source = source;
    }

    GptqFixtureCopy replace(String name, DType dtype, long[] shape, byte[] data) {
        tensors.put(name, new Replacement(dtype, shape, data));
        return this;
    }

    GptqFixtureCopy replaceInts(String name, long[] shape, int[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : values) b.putInt(v);
        return replace(name, DType.I32, shape, b.array());
    }

    GptqFixtureCopy drop(String name) {
        tensors.put(name, null);
        return this;
    }

    GptqFixtureCopy file(String name, String content) {
        files.put(name, content);
        return this;
    }

    GptqFixtureCopy removeFile(String name) {
        removedFiles.add(name);
        return this;
    }

    Path writeTo(Path dir) throws IOException {
        Files.createDirectories(dir);
        try (Stream<Path> s = Files.list(source)) {
            for (Path p : s.toList()) {
                String n = p.getFileName().toString();
                if (removedFiles.contains(n)) continue;
                if (n.endsWith(".safetensors")) {
                    rewrite(p, dir.resolve(n));
                } else {
                    Files.copy(p, dir.resolve(n));
                }
            }
        }
        for (var e : files.entrySet()) Files.writeString(dir.resolve(e.getKey()), e.getValue());
        return dir;
    }

    private void rewrite(Path from, Path to) {
        try (SafetensorsFile f = SafetensorsFile.open(from)) {
            SafetensorsWriter w = new SafetensorsWriter();
            f.metadata().forEach(w::metadata);
            for (String name : f.tensors().keySet()) {
                if (tensors.containsKey(name)) {
                    Replacement r = tensors.get(name);
                    if (r != null) w.add(name, r.dtype(), r.shape(), r.data());
                } else {
                    Tensor t = f.tensor(name);
                    w.add(name, t.dtype(), t.shape(), t.data());
                }
            }
            for (var e : tensors.entrySet()) {
                if (!f.contains(e.getKey()) && e.getValue() != null) {
                    w.add(e.getKey(), e.getValue().dtype(), e.getValue().shape(), e.getValue().data());
                }
            }
            w.write(to);
        }
    }
}
