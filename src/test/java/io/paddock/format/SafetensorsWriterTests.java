package io.paddock.format;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsWriterTests {

    @TempDir
    Path tmp;

    @Test
    void roundTripsEveryWayOfGivingData() throws IOException {
        Path file = tmp.resolve("model.safetensors");
        float[] f32 = {1f, -2f, 3.5f, 0.1f, 1e-8f, -0f};
        int[] ints = {7, -1, Integer.MAX_VALUE, Integer.MIN_VALUE};
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(6);
            for (int i = 0; i < 6; i++) seg.set(ValueLayout.JAVA_BYTE, i, (byte) (i * 3));
            long size = new SafetensorsWriter()
                    .metadata("format", "pt")
                    .addFloats("a.f32", DType.F32, new long[] {2, 3}, f32)
                    .addFloats("b.f16", DType.F16, new long[] {6}, f32)
                    .addFloats("c.bf16", DType.BF16, new long[] {3, 2}, f32)
                    .addInts("d.i32", new long[] {4}, ints)
                    .add("e.u8", DType.U8, new long[] {6}, seg)
                    .add("f.bool", DType.BOOL, new long[] {2}, new byte[] {1, 0})
                    .add("g.streamed", DType.I16, new long[] {3}, out -> {
                        ByteBuffer b = ByteBuffer.allocate(6).order(ByteOrder.LITTLE_ENDIAN);
                        b.putShort((short) 1).putShort((short) -2).putShort((short) 300).flip();
                        out.write(b);
                    })
                    .write(file);
            assertThat(size).isEqualTo(Files.size(file));
        }

        byte[] bytes = Files.readAllBytes(file);
        long headerLength = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertThat(headerLength % 8).isZero();
        String header = new String(bytes, 8, (int) headerLength, StandardCharsets.UTF_8);
        assertThat(header).startsWith("{").matches("(?s).*}\\s*");
        assertThat(header.stripTrailing().length()).isGreaterThan((int) headerLength - 8);

        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertThat(f.metadata()).isEqualTo(Map.of("format", "pt"));
            assertThat(f.tensors().keySet()).containsExactly("a.f32", "b.f16", "c.bf16", "d.i32", "e.u8", "f.bool", "g.streamed");
            assertThat(f.tensor("a.f32").toFloatArray()).containsExactly(f32);
            assertThat(f.tensor("a.f32").shape()).containsExactly(2, 3);
            for (int i = 0; i < f32.length; i++) {
                assertThat(f.tensor("b.f16").getFloat(i)).isEqualTo(Float.float16ToFloat(Float.floatToFloat16(f32[i])));
                assertThat(f.tensor("c.bf16").getFloat(i)).isEqualTo(HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(f32[i])));
            }
            assertThat(f.tensor("d.i32").toIntArray()).containsExactly(ints);
            assertThat(f.tensor("e.u8").toIntArray()).containsExactly(0, 3, 6, 9, 12, 15);
            assertThat(f.tensor("f.bool").toIntArray()).containsExactly(1, 0);
            assertThat(f.tensor("g.streamed").toIntArray()).containsExactly(1, -2, 300);
        }
    }

    @Test
    void streamsALargeTensorInChunks() {
        Path file = tmp.resolve("big.safetensors");
        int n = 3_000_000; // 12 MB of F32, written 1 MB at a time through the callback
        new SafetensorsWriter()
                .add("big", DType.F32, new long[] {n}, out -> {
                    ByteBuffer b = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
                    for (int i = 0; i < n; i++) {
                        if (!b.hasRemaining()) {
                            b.flip();
                            while (b.hasRemaining()) out.write(b);
                            b.clear();
                        }
                        b.putFloat(i);
                    }
                    b.flip();
                    while (b.hasRemaining()) out.write(b);
                })
                .write(file);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            Tensor t = f.tensor("big");
            assertThat(t.getFloat(0)).isZero();
            assertThat(t.getFloat(n - 1)).isEqualTo(n - 1);
            assertThat(t.getFloat(1234567)).isEqualTo(1234567f);
        }
    }

    @Test
    void aSourceWritingTheWrongByteCountFailsAndLeavesNoFile() {
        Path file = tmp.resolve("bad.safetensors");
        SafetensorsWriter tooShort = new SafetensorsWriter()
                .add("w", DType.F32, new long[] {4}, out -> out.write(ByteBuffer.allocate(8)));
        assertThatThrownBy(() -> tooShort.write(file))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("tensor 'w': source wrote 8 bytes, shape [4] of F32 needs 16");
        SafetensorsWriter tooLong = new SafetensorsWriter()
                .add("w", DType.F32, new long[] {1}, out -> out.write(ByteBuffer.allocate(8)));
        assertThatThrownBy(() -> tooLong.write(file))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("source wrote more than the 4 bytes");
        assertThat(tmp.toFile().list()).isEmpty();
    }

    @Test
    void rejectsInconsistentDeclarations() {
        SafetensorsWriter w = new SafetensorsWriter().add("w", DType.U8, new long[] {1}, new byte[1]);
        assertThatThrownBy(() -> w.add("w", DType.U8, new long[] {1}, new byte[1]))
                .hasMessageContaining("duplicate tensor 'w'");
        assertThatThrownBy(() -> w.add("x", DType.F32, new long[] {2}, new byte[4]))
                .hasMessageContaining("tensor 'x': 4 bytes given, shape [2] of F32 needs 8");
        assertThatThrownBy(() -> w.addFloats("y", DType.I32, new long[] {1}, new float[1]))
                .hasMessageContaining("cannot encode floats as I32");
        assertThatThrownBy(() -> w.add("__metadata__", DType.U8, new long[] {1}, new byte[1]))
                .hasMessageContaining("reserved");
    }

    @Test
    void replacesAnExistingFile() throws IOException {
        Path file = tmp.resolve("m.safetensors");
        Files.writeString(file, "old");
        new SafetensorsWriter().addInts("i", new long[] {1}, new int[] {5}).write(file);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertThat(f.tensor("i").getInt(0)).isEqualTo(5);
        }
    }
}
