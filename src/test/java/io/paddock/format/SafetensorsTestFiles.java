package io.paddock.format;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Hand-made safetensors files with arbitrary (possibly broken) headers. */
final class SafetensorsTestFiles {
    private SafetensorsTestFiles() {}

    /** 8-byte length + {@code json} padded to a multiple of 8 + {@code dataBytes} zero bytes. */
    static Path raw(Path file, String json, int dataBytes) throws IOException {
        byte[] j = json.getBytes(StandardCharsets.UTF_8);
        int padded = (j.length + 7) & ~7;
        ByteBuffer b = ByteBuffer.allocate(8 + padded + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(padded).put(j);
        for (int i = j.length; i < padded; i++) b.put((byte) ' ');
        Files.write(file, b.array());
        return file;
    }

    /** Little-endian floats as llama2.c wrote them, from {@code file} at {@code byteOffset}. */
    static float[] floatsAt(Path file, long byteOffset, int count) throws IOException {
        byte[] all = Files.readAllBytes(file);
        ByteBuffer b = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[count];
        for (int i = 0; i < count; i++) out[i] = b.getFloat(Math.toIntExact(byteOffset + 4L * i));
        return out;
    }
}
