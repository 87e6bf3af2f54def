package io.paddock.hub;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Pattern;

/**
 * Downloads a revision of a hub repository into the {@link HubCache}, as {@code snapshot_download} does: ask the hub
 * which commit the revision is and which files it holds, keep the ones the globs select, and fetch those the snapshot
 * lacks, a few at a time. A download writes {@code blobs/{etag}.incomplete}, resumes it with a {@code Range} request
 * after an interruption, checks the size and the hash the etag names (sha256 for LFS files, git's blob sha1 for small
 * ones), and only then renames it to the blob and links it into the snapshot.
 */
public final class HubPuller {
    /** Files downloaded at once: enough to hide per-file latency, few enough not to split a link many ways. */
    public static final int PARALLEL_FILES = 4;
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern SHA1 = Pattern.compile("[0-9a-f]{40}");
    /** One monitor per blob lock file, for every puller in this JVM. */
    private static final ConcurrentHashMap<String, Object> BLOB_MONITORS = new ConcurrentHashMap<>();

    private final HubSettings settings;
    private final HubCache cache;
    private final HubClient client;
    private final PullProgress progress;

    public HubPuller(HubSettings settings, PullProgress progress) {
        this.settings = settings;
        this.cache = new HubCache(settings.cache());
        this.client = new HubClient(settings);
        this.progress = progress;
    }

    public HubCache cache() { return cache; }

    /** What a pull did: the snapshot directory (a model directory), the commit, files fetched and already cached. */
    public record Result(Path snapshot, String commit, List<String> downloaded, List<String> cached) {}

    /**
     * The snapshot of {@code ref} for serving: the cached one without a request when the cache has a loadable model
     * there (config, weights, a tokenizer; not the leftovers of a {@code --include '*.json'} pull), else a pull with the
     * default globs. Offline ({@code HF_HUB_OFFLINE=1}) only the cache is consulted.
     */
    public Path resolve(HubRef ref) {
        var cached = cache.cachedSnapshot(ref);
        if (cached.isPresent() && isModel(cached.get())) return cached.get();
        return pull(ref, IncludeGlobs.DEFAULT).snapshot();
    }

    public Result pull(HubRef ref, IncludeGlobs include) {
        try {
            if (settings.offline()) return offline(ref, include);
            HubClient.RepoInfo info = client.info(ref);
            String commit = info.commit();
            if (info.files().stream().noneMatch(f -> f.endsWith(".safetensors"))) {
                List<String> weights = info.files().stream()
                        .filter(f -> f.endsWith(".bin") || f.endsWith(".pt") || f.endsWith(".pth") || f.endsWith(".gguf"))
                        .toList();
                throw new HubException(ref + " has no *.safetensors files" + (weights.isEmpty() ? "" : " (it has "
                        + String.join(", ", weights) + ")") + ": paddock reads safetensors weights only");
            }
            List<String> selected = info.files().stream().filter(include::matches).toList();
            if (selected.isEmpty()) {
                throw new HubException("no file of " + ref + " matches --include " + include + " (it has "
                        + String.join(", ", info.files()) + ")");
            }
            List<String> missing = new ArrayList<>(), present = new ArrayList<>();
            Path snapshot = cache.snapshot(ref.repo(), commit);
            for (String f : selected) (Files.exists(snapshot.resolve(f)) ? present : missing).add(f);
            download(ref, commit, missing);
            Files.createDirectories(snapshot);
            cache.writeRef(ref.repo(), ref.revision(), commit);
            return new Result(snapshot, commit, List.copyOf(missing), List.copyOf(present));
        } catch (IOException e) {
            throw new HubException("cannot write the hub cache " + settings.cache() + ": " + e.getMessage(), e);
        } finally {
            progress.done();
        }
    }

    private Result offline(HubRef ref, IncludeGlobs include) throws IOException {
        Path snapshot = cache.cachedSnapshot(ref).orElseThrow(() -> new HubException(ref + " is not in the hub cache "
                + settings.cache() + " and HF_HUB_OFFLINE is set: pull it while online first"));
        List<String> files;
        try (var walk = Files.walk(snapshot)) {
            files = walk.filter(p -> !Files.isDirectory(p)).map(p -> snapshot.relativize(p).toString().replace('\\', '/'))
                    .filter(include::matches).sorted().toList();
        }
        if (!hasSafetensors(snapshot)) {
            throw new HubException(ref + ": the cached snapshot " + snapshot + " has no *.safetensors files and"
                    + " HF_HUB_OFFLINE is set: pull it while online first");
        }
        return new Result(snapshot, snapshot.getFileName().toString(), List.of(), files);
    }

    private static boolean isModel(Path dir) {
        return hasSafetensors(dir) && Files.exists(dir.resolve("config.json"))
                && (Files.exists(dir.resolve("tokenizer.model")) || Files.exists(dir.resolve("tokenizer.json")));
    }

    private static boolean hasSafetensors(Path dir) {
        try (var files = Files.list(dir)) {
            return files.anyMatch(p -> p.getFileName().toString().endsWith(".safetensors") && Files.exists(p));
        } catch (IOException e) {
            return false;
        }
    }

    /** Fetches {@code paths} a few at a time; the first failure is reported once the others have stopped. */
    private void download(HubRef ref, String commit, List<String> paths) {
        if (paths.isEmpty()) return;
        // The metadata first (small requests), so the progress knows the total before the first byte.
        List<HubClient.FileMeta> metas = parallel(paths, p -> client.meta(ref, commit, p));
        progress.planned(paths.size(), metas.stream().mapToLong(m -> Math.max(m.size(), 0)).sum());
        parallel(java.util.stream.IntStream.range(0, paths.size()).boxed().toList(), i -> {
            fetch(ref, commit, paths.get(i), metas.get(i));
            return null;
        });
    }

    private interface Task<I, O> {
        O run(I in) throws IOException;
    }

    private <I, O> List<O> parallel(List<I> inputs, Task<I, O> task) {
        List<O> results = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(Math.min(PARALLEL_FILES, inputs.size()),
                Thread.ofPlatform().daemon().name("hub-download-", 0).factory())) {
            List<Future<O>> futures = new ArrayList<>();
            for (I in : inputs) futures.add(pool.submit(() -> {
                try {
                    return task.run(in);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }));
            RuntimeException first = null;
            for (Future<O> f : futures) {
                try {
                    results.add(f.get());
                } catch (ExecutionException e) {
                    if (first == null) {
                        first = e.getCause() instanceof HubException h ? h
                                : e.getCause() instanceof UncheckedIOException u
                                        ? new HubException("cannot write the hub cache " + settings.cache() + ": "
                                                + u.getCause().getMessage(), u)
                                        : new HubException(String.valueOf(e.getCause().getMessage()), e.getCause());
                        futures.forEach(x -> x.cancel(true));
                    }
                } catch (java.util.concurrent.CancellationException e) {
                    // stopped after the first failure
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new HubException("interrupted", e);
                }
            }
            if (first != null) throw first;
        }
        return results;
    }

    /** One file into its blob (resuming, verifying), then linked into the snapshot. */
    private void fetch(HubRef ref, String commit, String path, HubClient.FileMeta meta) throws IOException {
        String etag = meta.etag();
        if (etag.contains("/") || etag.contains("\\") || etag.startsWith(".")) {
            throw new HubException(ref + ": " + path + ": unusable etag '" + etag + "'");
        }
        // Two paths may share one blob, two pulls may share one cache: one writer per blob, in this JVM by a monitor
        // (a file lock is held per JVM, not per thread), across processes by the lock file.
        Path lockFile = cache.lockFile(ref.repo(), etag);
        synchronized (BLOB_MONITORS.computeIfAbsent(lockFile.toAbsolutePath().toString(), k -> new Object())) {
            Files.createDirectories(lockFile.getParent());
            try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                    FileLock lock = channel.lock()) {
                Path blob = cache.blob(ref.repo(), etag);
                if (!Files.exists(blob)) fetchBlob(ref, path, meta, blob);
            }
        }
        cache.link(ref.repo(), commit, path, etag);
        progress.finished(path);
    }

    private void fetchBlob(HubRef ref, String path, HubClient.FileMeta meta, Path blob) throws IOException {
        Files.createDirectories(blob.getParent());
        Path partial = cache.incomplete(ref.repo(), meta.etag());
        long have = Files.exists(partial) ? Files.size(partial) : 0;
        if (meta.size() >= 0 && have > meta.size()) {
            Files.delete(partial);
            have = 0;
        }
        progress.started(path, meta.size(), have);
        HubClient.Body body = client.open(ref, path, meta.location(), have);
        long at = body.offset();
        if (at == 0 && have > 0) progress.advanced(-have); // the server sent the whole file: start over
        try (InputStream in = body.in();
                OutputStream out = Files.newOutputStream(partial, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                        at == 0 ? StandardOpenOption.TRUNCATE_EXISTING : StandardOpenOption.APPEND)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                out.write(buf, 0, n);
                at += n;
                progress.advanced(n);
            }
        } catch (IOException e) {
            throw new HubException(ref + ": download of " + path + " broke off at " + PullProgress.size(at)
                    + " (" + describe(e) + "); run the pull again to resume", e);
        }
        if (meta.size() >= 0 && at != meta.size()) {
            throw new HubException(ref + ": " + path + ": the download ended at " + at + " of " + meta.size()
                    + " bytes; run the pull again to resume");
        }
        String actual = hashOf(partial, meta.etag());
        if (actual != null && !actual.equals(meta.etag())) {
            Files.deleteIfExists(partial);
            throw new HubException(ref + ": " + path + " is corrupt: its " + (actual.length() == 64 ? "sha256" : "git sha1")
                    + " is " + actual + " but the hub's etag says " + meta.etag() + "; the download was deleted");
        }
        Files.move(partial, blob, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * The hash the etag is of, over the whole file (a resumed download is hashed once, at the end): sha256 for a
     * 64-hex etag (LFS), git's {@code blob <size>\0} sha1 for a 40-hex one, null where the etag is neither.
     */
    static String hashOf(Path file, String etag) throws IOException {
        MessageDigest md;
        try {
            if (SHA256.matcher(etag).matches()) {
                md = MessageDigest.getInstance("SHA-256");
            } else if (SHA1.matcher(etag).matches()) {
                md = MessageDigest.getInstance("SHA-1");
                md.update(("blob " + Files.size(file) + "\0").getBytes(StandardCharsets.US_ASCII));
            } else {
                return null;
            }
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static String describe(IOException e) {
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
}
