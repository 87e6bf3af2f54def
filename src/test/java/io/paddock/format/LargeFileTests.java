package io.paddock.format;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A weights file larger than 2 GB: the case that {@code MappedByteBuffer} (int-indexed) cannot handle. The file is
 * sparse ({@code setLength}), so it costs a few KB of disk; only the pages touched are ever read.
 */
class LargeFileTests {

    private static final long PAD = (1L << 31) + 8; // a U8 tensor spanning past the 2^31 byte mark

    @TempDir
    Path tmp;

    @Test
    void readsAValueWrittenBeyondTwoGigabytes() throws IOException {
        Path file = tmp.resolve("huge-4bit.safetensors");
        String json = "{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"pad\":{\"dtype\":\"U8\",\"shape\":[" + PAD + "],\"data_offsets\":[0," + PAD + "]},"
                + "\"tail\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[" + PAD + "," + (PAD + 16) + "]}}";
        byte[] j = json.getBytes(StandardCharsets.UTF_8);
        int headerLength = (j.length + 7) & ~7;
        long dataStart = 8 + headerLength;
        long size = dataStart + PAD + 16;

        ByteBuffer head = ByteBuffer.allocate((int) dataStart).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(headerLength).put(j);
        while (head.hasRemaining()) head.put((byte) ' ');
        ByteBuffer tail = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        tail.putFloat(1.5f).putFloat(-2.25f).putFloat(3.0f).putFloat(42.125f);
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(size);
            raf.write(head.array());
            raf.seek(size - 16);
            raf.write(tail.array());
        }
        assertThat(Files.size(file)).isGreaterThan(Integer.MAX_VALUE);

        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertThat(f.fileSize()).isEqualTo(size);
            TensorInfo info = f.tensors().get("tail");
            assertThat(info.dataOffset()).isGreaterThan(1L << 31);
            Tensor t = f.tensor("tail");
            assertThat(t.toFloatArray()).containsExactly(1.5f, -2.25f, 3.0f, 42.125f);
            Tensor pad = f.tensor("pad");
            assertThat(pad.data().byteSize()).isEqualTo(PAD);
            assertThat(pad.getInt(PAD - 1)).isZero();
        }

        // the same file found by WeightStore under its GPTQ-style name, as the only weights file
        Files.writeString(tmp.resolve("config.json"), "{}");
        try (WeightStore store = WeightStore.open(tmp)) {
            assertThat(store.files()).containsExactly(file);
            assertThat(store.require("tail", Set.of(DType.F32), 2, 2).getFloat(3)).isEqualTo(42.125f);
        }
    }
}
