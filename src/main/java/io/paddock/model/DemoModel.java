package io.paddock.model;

import io.paddock.format.DType;
import io.paddock.format.SafetensorsWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import tools.jackson.databind.json.JsonMapper;

/**
 * The embedded default model: a small LLaMA-architecture checkpoint with RANDOM weights, generated
 * deterministically (fixed seed) so the server can start with no model configured. Its output is meaningless;
 * it exists to exercise the whole serving path. Written as a normal Hugging Face model directory (config,
 * tokenizer.json, F16 safetensors), so it goes through exactly the same loader as a real model.
 */
public final class DemoModel {
    /** Bump when the generated content changes, so stale directories are not reused. */
    public static final String VERSION = "v1";
    public static final String ID = "paddock-demo-random";
    public static final String DESCRIPTION = "Embedded demo model with random weights: its output is meaningless."
            + " Serve a real model with --model DIR (e.g. ./paddock serve --model /path/to/Guanaco-7B-HF).";

    static final int HIDDEN = 256, INTERMEDIATE = 688, LAYERS = 4, HEADS = 8, KV_HEADS = 4, CONTEXT = 2048;
    private static final long SEED = 0x5EEDL;

    private static final String WORDS = "the of and to a in is you that it he was for on are as with his they I at"
            + " be this have from or one had by word but not what all were we when your can said there use an each"
            + " which she do how their if will up other about out many then them these so some her would make like"
            + " him into time has look two more write go see number no way could people my than first water been"
            + " call who oil its now find long down day did get come made may part Human Assistant USER ASSISTANT"
            + " hello model story once upon little girl boy happy play";

    /** The demo tokenizer's vocabulary: immutable, built once. */
    private static final Vocabulary VOCABULARY = Vocabulary.build(WORDS.split(" "));

    private DemoModel() {}

    /** Returns the demo model directory under {@code cacheRoot}, generating it first where absent. */
    public static Path materialize(Path cacheRoot) {
        Path dir = cacheRoot.resolve(ID + "-" + VERSION);
        if (Files.isRegularFile(dir.resolve(CheckpointWriter.WEIGHTS))) return dir;
        try {
            Files.createDirectories(cacheRoot);
            Path tmp = Files.createTempDirectory(cacheRoot, ID + "-tmp-");
            write(tmp);
            try {
                Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException raced) {
                if (!Files.isRegularFile(dir.resolve(CheckpointWriter.WEIGHTS))) throw raced;
                deleteTree(tmp); // another process finished first; its identical copy wins
            }
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the demo model under " + cacheRoot, e);
        }
    }

    /** Writes the whole model directory into {@code dir}. */
    public static void write(Path dir) throws IOException {
        Vocabulary vocab = VOCABULARY;
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("architectures", List.of("LlamaForCausalLM"));
        config.put("model_type", "llama");
        config.put("hidden_size", HIDDEN);
        config.put("intermediate_size", INTERMEDIATE);
        config.put("num_hidden_layers", LAYERS);
        config.put("num_attention_heads", HEADS);
        config.put("num_key_value_heads", KV_HEADS);
        config.put("max_position_embeddings", CONTEXT);
        config.put("rms_norm_eps", 1e-5);
        config.put("rope_theta", 10000.0);
        config.put("vocab_size", vocab.pieces.size());
        config.put("tie_word_embeddings", false);
        config.put("bos_token_id", 1);
        config.put("eos_token_id", 2);
        config.put("torch_dtype", "float16");
        config.put("_paddock_note", DESCRIPTION);

        SplittableRandom random = new SplittableRandom(SEED);
        int v = vocab.pieces.size(), kv = KV_HEADS * (HIDDEN / HEADS);
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
        gaussian(w, "model.embed_tokens.weight", v, HIDDEN, 1.0, random.split());
        for (int i = 0; i < LAYERS; i++) {
            String p = "model.layers." + i + ".";
            ones(w, p + "input_layernorm.weight", HIDDEN);
            gaussian(w, p + "self_attn.q_proj.weight", HIDDEN, HIDDEN, 1 / Math.sqrt(HIDDEN), random.split());
            gaussian(w, p + "self_attn.k_proj.weight", kv, HIDDEN, 1 / Math.sqrt(HIDDEN), random.split());
            gaussian(w, p + "self_attn.v_proj.weight", kv, HIDDEN, 1 / Math.sqrt(HIDDEN), random.split());
            gaussian(w, p + "self_attn.o_proj.weight", HIDDEN, HIDDEN, 1 / Math.sqrt(HIDDEN), random.split());
            ones(w, p + "post_attention_layernorm.weight", HIDDEN);
            gaussian(w, p + "mlp.gate_proj.weight", INTERMEDIATE, HIDDEN, 1 / Math.sqrt(HIDDEN), random.split());
            gaussian(w, p + "mlp.up_proj.weight", INTERMEDIATE, HIDDEN, 1 / Math.sqrt(HIDDEN), random.split());
            gaussian(w, p + "mlp.down_proj.weight", HIDDEN, INTERMEDIATE, 1 / Math.sqrt(INTERMEDIATE), random.split());
        }
        ones(w, "model.norm.weight", HIDDEN);
        gaussian(w, "lm_head.weight", v, HIDDEN, 4 / Math.sqrt(HIDDEN), random.split());
        CheckpointWriter.write(dir, config, Map.of("bos_token_id", 1, "eos_token_id", 2), null, w);
    }

    /**
     * Writes the demo model's byte-fallback BPE tokenizer ({@code tokenizer.json}, {@code tokenizer_config.json})
     * into {@code dir}; {@link CheckpointWriter} writes it into every checkpoint it makes.
     */
    public static void writeTokenizer(Path dir) throws IOException {
        JsonMapper json = JsonMapper.builder().build();
        json.writeValue(dir.resolve("tokenizer_config.json").toFile(), Map.of("add_bos_token", true,
                "add_eos_token", false, "bos_token", "<s>", "eos_token", "</s>", "unk_token", "<unk>",
                "tokenizer_class", "LlamaTokenizer", "model_max_length", CONTEXT));
        json.writeValue(dir.resolve("tokenizer.json").toFile(), VOCABULARY.tokenizerJson());
    }

    /** Number of pieces in the tokenizer {@link #writeTokenizer} writes. */
    public static int tokenizerSize() {
        return VOCABULARY.pieces().size();
    }

    private static void ones(SafetensorsWriter w, String name, int n) {
        float[] x = new float[n];
        Arrays.fill(x, 1f);
        w.addFloats(name, DType.F16, new long[] {n}, x);
    }

    /** Streams a (rows, cols) F16 matrix of N(0, std²) values without holding it on the heap. */
    private static void gaussian(SafetensorsWriter w, String name, int rows, int cols, double std, SplittableRandom r) {
        w.add(name, DType.F16, new long[] {rows, cols}, out -> {
            ByteBuffer buf = ByteBuffer.allocate(cols * 2).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < rows; i++) {
                buf.clear();
                for (int j = 0; j < cols; j++) buf.putShort(Float.floatToFloat16((float) (gauss(r) * std)));
                buf.flip();
                while (buf.hasRemaining()) out.write(buf);
            }
        });
    }

    private static double gauss(SplittableRandom r) {
        // Box–Muller: deterministic given the generator, unlike java.util.Random#nextGaussian's caching.
        double u1 = 1.0 - r.nextDouble(), u2 = r.nextDouble();
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }

    private static void deleteTree(Path p) throws IOException {
        try (var s = Files.walk(p)) {
            for (Path f : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(f);
        }
    }

    /** A byte-fallback BPE vocabulary: specials, 256 bytes, printable ASCII, then whole words built by merges. */
    private record Vocabulary(List<String> pieces, List<String> merges) {
        static Vocabulary build(String[] words) {
            List<String> pieces = new ArrayList<>(List.of("<unk>", "<s>", "</s>"));
            for (int b = 0; b < 256; b++) pieces.add(String.format("<0x%02X>", b));
            pieces.add("\u2581");
            for (char ch = '!'; ch <= '~'; ch++) pieces.add(String.valueOf(ch));
            List<String> merges = new ArrayList<>();
            for (String word : words) {
                String prev = "\u2581";
                for (int i = 0; i < word.length(); i++) {
                    String next = prev + word.charAt(i);
                    if (!pieces.contains(next)) {
                        pieces.add(next);
                        merges.add(prev + " " + word.charAt(i));
                    }
                    prev = next;
                }
            }
            return new Vocabulary(List.copyOf(pieces), List.copyOf(merges));
        }

        Map<String, Object> tokenizerJson() {
            Map<String, Integer> vocab = new LinkedHashMap<>();
            for (int i = 0; i < pieces.size(); i++) vocab.put(pieces.get(i), i);
            List<Map<String, Object>> added = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                added.add(Map.of("id", i, "content", pieces.get(i), "single_word", false, "lstrip", false,
                        "rstrip", false, "normalized", false, "special", true));
            }
            Map<String, Object> model = new LinkedHashMap<>();
            model.put("type", "BPE");
            model.put("unk_token", "<unk>");
            model.put("fuse_unk", true);
            model.put("byte_fallback", true);
            model.put("vocab", vocab);
            model.put("merges", merges);
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("version", "1.0");
            t.put("added_tokens", added);
            t.put("normalizer", Map.of("type", "Sequence", "normalizers", List.of(
                    Map.of("type", "Prepend", "prepend", "\u2581"),
                    Map.of("type", "Replace", "pattern", Map.of("String", " "), "content", "\u2581"))));
            t.put("pre_tokenizer", null);
            t.put("post_processor", Map.of("type", "TemplateProcessing",
                    "single", List.of(Map.of("SpecialToken", Map.of("id", "<s>", "type_id", 0)),
                            Map.of("Sequence", Map.of("id", "A", "type_id", 0))),
                    "pair", List.of(), "special_tokens", Map.of("<s>", Map.of("id", "<s>", "ids", List.of(1),
                            "tokens", List.of("<s>")))));
            t.put("decoder", Map.of("type", "Sequence", "decoders", List.of(
                    Map.of("type", "Replace", "pattern", Map.of("String", "\u2581"), "content", " "),
                    Map.of("type", "ByteFallback"), Map.of("type", "Fuse"),
                    Map.of("type", "Strip", "content", " ", "start", 1, "stop", 0))));
            t.put("model", model);
            return t;
        }
    }
}
