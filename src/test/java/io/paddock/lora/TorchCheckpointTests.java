package io.paddock.lora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.paddock.testing.SharedModels;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The torch.save zip reader and its unpickler, which must never run what a pickle asks for. */
class TorchCheckpointTests {
    @TempDir
    Path tmp;

    /** Pickle bytes written by hand. */
    private static final class Pickle {
        final ByteArrayOutputStream b = new ByteArrayOutputStream();

        Pickle op(byte[] raw) {
            b.writeBytes(raw);
            return this;
        }

        Pickle op(int... bytes) {
            for (int x : bytes) b.write(x);
            return this;
        }

        Pickle str(String s) {
            byte[] u = s.getBytes(StandardCharsets.UTF_8);
            op('X', u.length & 0xFF, (u.length >> 8) & 0xFF, 0, 0);
            b.writeBytes(u);
            return this;
        }

        Pickle global(String module, String name) {
            op('c');
            b.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.UTF_8));
            return this;
        }

        byte[] bytes() {
            return b.toByteArray();
        }
    }

    /** {"w": tensor of shape [2, 3] over storage '0' of 6 floats, offset 0} as torch 1.13 writes it. */
    private static Pickle stateDict(int... stride) {
        Pickle p = new Pickle().op(0x80, 2, '}', 'q', 0, '(').str("w");
        p.global("torch._utils", "_rebuild_tensor_v2").op('(', '(').str("storage").global("torch", "FloatStorage")
                .str("0").str("cpu").op('K', 6, 't', 'Q', 'K', 0, 'K', 2, 'K', 3, 0x86, 'K', stride[0], 'K', stride[1], 0x86,
                        0x89)
                .global("collections", "OrderedDict").op(')', 'R', 't', 'R', 'u', '.');
        return p;
    }

    private Path zip(String name, Map<String, byte[]> entries) throws IOException {
        Path f = tmp.resolve(name);
        try (OutputStream out = Files.newOutputStream(f); ZipOutputStream z = new ZipOutputStream(out)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                z.putNextEntry(new ZipEntry(e.getKey()));
                z.write(e.getValue());
                z.closeEntry();
            }
        }
        return f;
    }

    private static byte[] floats(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) b.putFloat(x);
        return b.array();
    }

    @Test
    void readsAHandWrittenStateDict() throws IOException {
        Path f = zip("ok.bin", Map.of("archive/data.pkl", stateDict(3, 1).bytes(),
                "archive/data/0", floats(1, 2, 3, 4, 5, -6.5f), "archive/byteorder", "little".getBytes()));
        Map<String, HeapTensor> t = TorchCheckpoint.read(f);
        assertThat(t).containsOnlyKeys("w");
        assertThat(t.get("w").shape()).containsExactly(2, 3);
        assertThat(t.get("w").values()).containsExactly(1, 2, 3, 4, 5, -6.5f);
    }

    @Test
    void nonContiguousTensorsAreRefused() throws IOException {
        Path f = zip("t.bin", Map.of("archive/data.pkl", stateDict(1, 2).bytes(), "archive/data/0", floats(1, 2, 3, 4, 5, 6)));
        assertThatThrownBy(() -> TorchCheckpoint.read(f)).isInstanceOf(AdapterLoadException.class)
                .hasMessageContaining("tensor 'w' is not contiguous (size [2, 3], stride [1, 2])");
    }

    @Test
    void osSystemIsNeverCalled() throws IOException {
        Path marker = tmp.resolve("pwned");
        byte[] evil = new Pickle().op(0x80, 2).global("os", "system").op('(').str("touch " + marker).op('t', 'R', '.').bytes();
        Path f = zip("evil.bin", Map.of("archive/data.pkl", evil));
        assertThatThrownBy(() -> TorchCheckpoint.read(f)).isInstanceOf(AdapterLoadException.class)
                .hasMessageContaining("data.pkl").hasMessageContaining("global 'os.system' is not allowed");
        assertThat(marker).doesNotExist();

        byte[] stack = new Pickle().op(0x80, 4).op(0x8c, 8).op("builtins".getBytes()).op(0x8c, 4).op("eval".getBytes())
                .op(0x93).bytes();
        assertThatThrownBy(() -> SafeUnpickler.load(stack, "x.pkl"))
                .hasMessage("x.pkl: byte 18: global 'builtins.eval' is not allowed (only collections.OrderedDict, "
                        + "torch._utils._rebuild_tensor_v2 and the float storage types); refusing to load it");
    }

    @Test
    void objectBuildingOpcodesAreRefused() {
        byte[] inst = new Pickle().op(0x80, 2, '(').op("ios\nsystem\n".getBytes()).bytes();
        assertThatThrownBy(() -> SafeUnpickler.load(inst, "x.pkl")).isInstanceOf(AdapterLoadException.class)
                .hasMessage("x.pkl: byte 3: opcode INST (0x69) is not allowed (a tensor state dict does not need it)");
        byte[] obj = new Pickle().op(0x80, 2, '(', 'o').bytes();
        assertThatThrownBy(() -> SafeUnpickler.load(obj, "x.pkl")).hasMessageContaining("opcode OBJ (0x6f) is not allowed");
        byte[] newobj = new Pickle().op(0x80, 2, ')', ')', 0x81).bytes();
        assertThatThrownBy(() -> SafeUnpickler.load(newobj, "x.pkl")).hasMessageContaining("opcode NEWOBJ (0x81)");
        // BUILD on anything but an OrderedDict (setstate on an arbitrary object)
        byte[] build = new Pickle().op(0x80, 2, ']', '}', 'b').bytes();
        assertThatThrownBy(() -> SafeUnpickler.load(build, "x.pkl")).hasMessageContaining("BUILD is only allowed on an OrderedDict");
        // REDUCE of an allowed global with other arguments, or of a storage type
        byte[] storageCall = new Pickle().op(0x80, 2).global("torch", "FloatStorage").op(')', 'R').bytes();
        assertThatThrownBy(() -> SafeUnpickler.load(storageCall, "x.pkl")).hasMessageContaining("'torch.FloatStorage' cannot be called");
    }

    @Test
    void truncatedInputIsRefused() throws IOException {
        byte[] whole = stateDict(3, 1).bytes();
        byte[] cut = Arrays.copyOf(whole, 40);
        assertThatThrownBy(() -> SafeUnpickler.load(cut, "x.pkl")).isInstanceOf(AdapterLoadException.class)
                .hasMessageStartingWith("x.pkl: pickle truncated: ").hasMessageContaining("file truncated?");
        byte[] noStop = Arrays.copyOf(whole, whole.length - 1);
        assertThatThrownBy(() -> SafeUnpickler.load(noStop, "x.pkl")).hasMessageContaining("no STOP opcode before the end");

        Path good = zip("good.bin", Map.of("archive/data.pkl", whole, "archive/data/0", floats(1, 2, 3, 4, 5, 6)));
        byte[] file = Files.readAllBytes(good);
        Path truncated = Files.write(tmp.resolve("truncated.bin"), Arrays.copyOf(file, file.length / 2));
        assertThatThrownBy(() -> TorchCheckpoint.read(truncated)).isInstanceOf(AdapterLoadException.class)
                .hasMessageContaining(truncated + ": not a zip archive");

        Path shortStorage = zip("short.bin", Map.of("archive/data.pkl", whole, "archive/data/0", floats(1, 2, 3)));
        assertThatThrownBy(() -> TorchCheckpoint.read(shortStorage)).hasMessageContaining("storage archive/data/0 has 12 bytes");
    }

    @Test
    void archivesWithoutAPickleAreRefused() throws IOException {
        Path f = zip("nopkl.bin", Map.of("archive/data/0", floats(1)));
        assertThatThrownBy(() -> TorchCheckpoint.read(f)).isInstanceOf(AdapterLoadException.class)
                .hasMessage(f + ": no <folder>/data.pkl in the zip archive; not a torch.save checkpoint");
        Path legacy = Files.write(tmp.resolve("legacy.bin"), new byte[] {(byte) 0x80, 2, (byte) 0x8a, 10});
        assertThatThrownBy(() -> TorchCheckpoint.read(legacy)).hasMessageContaining("not a zip archive");
        assertThatThrownBy(() -> TorchCheckpoint.read(tmp.resolve("absent.bin"))).hasMessageEndingWith("absent.bin: file not found");
    }

    @Test
    void theFixtureMatchesItsSafetensorsTwin() {
        Map<String, HeapTensor> bin = TorchCheckpoint.read(SharedModels.require("stories260K-lora-all-bin").resolve("adapter_model.bin"));
        assertThat(bin).hasSize(70);
        assertThat(bin.keySet().iterator().next()).isEqualTo("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight");
        assertThat(bin.get("base_model.model.model.layers.4.mlp.down_proj.lora_A.weight").shape()).containsExactly(8, 192);
    }
}
