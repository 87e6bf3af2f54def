package io.paddock.lora;

import io.paddock.format.HalfFloats;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * Reads a state dict of float tensors saved by {@code torch.save} in its zip format (torch 1.6 and later): a zip
 * whose entries lie under one folder, {@code <folder>/data.pkl} the pickled dict, {@code <folder>/data/<key>} each
 * storage's raw bytes, and optionally {@code <folder>/byteorder} ("little" when absent). The pickle is read by
 * {@link SafeUnpickler}, which executes nothing and refuses anything but tensors in a dict. Tensors must be
 * contiguous; F32, F16 and BF16 storages are widened to float exactly.
 */
public final class TorchCheckpoint {
    private TorchCheckpoint() {}

    /** The tensors of {@code file} by key, in the file's order. */
    public static Map<String, HeapTensor> read(Path file) {
        if (!Files.isRegularFile(file)) throw new AdapterLoadException(file + ": file not found");
        try (ZipFile zip = new ZipFile(file.toFile())) {
            return read(zip, file.toString());
        } catch (ZipException e) {
            throw new AdapterLoadException(file + ": not a zip archive (" + e.getMessage() + "); only the zip format of "
                    + "torch.save (torch 1.6 and later) is supported, not the legacy one", e);
        } catch (IOException e) {
            throw new AdapterLoadException(file + ": cannot read (" + e + ")", e);
        }
    }

    private static Map<String, HeapTensor> read(ZipFile zip, String source) throws IOException {
        String prefix = null;
        for (ZipEntry e : zip.stream().toList()) {
            String n = e.getName();
            int slash = n.indexOf('/');
            if (slash > 0 && n.substring(slash + 1).equals("data.pkl")) {
                if (prefix != null) throw new AdapterLoadException(source + ": more than one data.pkl in the archive");
                prefix = n.substring(0, slash + 1);
            }
        }
        if (prefix == null) {
            throw new AdapterLoadException(source + ": no <folder>/data.pkl in the zip archive; not a torch.save checkpoint");
        }
        ByteOrder order = ByteOrder.LITTLE_ENDIAN;
        ZipEntry bo = zip.getEntry(prefix + "byteorder");
        if (bo != null) {
            String s = new String(entry(zip, bo, source, 16), StandardCharsets.US_ASCII).trim();
            order = switch (s) {
                case "little" -> ByteOrder.LITTLE_ENDIAN;
                case "big" -> ByteOrder.BIG_ENDIAN;
                default -> throw new AdapterLoadException(source + ": " + prefix + "byteorder says '" + s + "', not little or big");
            };
        }
        String pklName = prefix + "data.pkl";
        Object root = SafeUnpickler.load(entry(zip, zip.getEntry(pklName), source, 1 << 30), source + " (" + pklName + ")");
        if (!(root instanceof Map<?, ?> dict)) {
            throw new AdapterLoadException(source + ": " + pklName + " holds a " + (root == null ? "None" : root.getClass().getSimpleName())
                    + ", not a dict of tensors");
        }
        Map<String, float[]> storages = new HashMap<>();
        Map<String, HeapTensor> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : dict.entrySet()) {
            if (!(e.getKey() instanceof String key)) throw new AdapterLoadException(source + ": a key of the state dict is not a string: " + e.getKey());
            if (!(e.getValue() instanceof SafeUnpickler.TensorRef t)) {
                throw new AdapterLoadException(source + ": '" + key + "' is not a tensor");
            }
            SafeUnpickler.StorageRef s = t.storage();
            float[] storage = storages.get(s.key());
            if (storage == null) {
                storage = storage(zip, prefix, s, order, source);
                storages.put(s.key(), storage);
            }
            out.put(key, tensor(key, t, storage, source));
        }
        return out;
    }

    private static HeapTensor tensor(String key, SafeUnpickler.TensorRef t, float[] storage, String source) {
        long[] size = t.size(), stride = t.stride();
        if (size.length != stride.length) {
            throw new AdapterLoadException(source + ": tensor '" + key + "' has size " + Arrays.toString(size) + " but stride "
                    + Arrays.toString(stride));
        }
        long expected = 1;
        for (int i = size.length - 1; i >= 0; i--) {
            if (size[i] != 1 && stride[i] != expected) {
                throw new AdapterLoadException(source + ": tensor '" + key + "' is not contiguous (size " + Arrays.toString(size)
                        + ", stride " + Arrays.toString(stride) + "); only contiguous tensors are supported");
            }
            expected = Math.multiplyExact(expected, size[i]);
        }
        long n = expected;
        if (t.offset() + n > storage.length) {
            throw new AdapterLoadException(source + ": tensor '" + key + "' (offset " + t.offset() + ", " + n
                    + " elements) runs past its storage of " + storage.length + " elements");
        }
        return new HeapTensor(size, Arrays.copyOfRange(storage, (int) t.offset(), (int) (t.offset() + n)));
    }

    private static float[] storage(ZipFile zip, String prefix, SafeUnpickler.StorageRef s, ByteOrder order, String source)
            throws IOException {
        String name = prefix + "data/" + s.key();
        ZipEntry e = zip.getEntry(name);
        if (e == null) throw new AdapterLoadException(source + ": storage " + name + " is missing from the archive");
        int width = s.dtype().equals("F32") ? 4 : 2;
        long bytes = Math.multiplyExact(s.numel(), width);
        if (bytes > Integer.MAX_VALUE - 8) throw new AdapterLoadException(source + ": storage " + name + " is too large");
        byte[] raw = entry(zip, e, source, (int) bytes);
        if (raw.length != bytes) {
            throw new AdapterLoadException(source + ": storage " + name + " has " + raw.length + " bytes, " + s.numel()
                    + " elements of " + s.dtype() + " need " + bytes);
        }
        ByteBuffer b = ByteBuffer.wrap(raw).order(order);
        float[] out = new float[(int) s.numel()];
        for (int i = 0; i < out.length; i++) {
            out[i] = switch (s.dtype()) {
                case "F32" -> b.getFloat();
                case "F16" -> HalfFloats.f16ToFloat(b.getShort());
                default -> HalfFloats.bf16ToFloat(b.getShort());
            };
        }
        return out;
    }

    /** An entry's bytes, at most {@code limit} (+1 to notice a longer one). */
    private static byte[] entry(ZipFile zip, ZipEntry e, String source, int limit) throws IOException {
        try (InputStream in = zip.getInputStream(e)) {
            byte[] b = in.readNBytes(limit + 1);
            if (b.length > limit) throw new AdapterLoadException(source + ": " + e.getName() + " is larger than expected");
            return b;
        }
    }
}
