package io.paddock.testing;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A Hugging Face hub on a free loopback port, answering as the real one does for the calls a download makes:
 * {@code GET /api/models/{repo}/revision/{revision}} (commit {@code sha}, {@code siblings[].rfilename}),
 * {@code HEAD|GET /{repo}/resolve/{revision}/{path}} (small files: 200 with the git blob sha1 as {@code ETag}; LFS
 * files: 302 to a second server, the "CDN", with {@code X-Linked-Etag} = sha256 and {@code X-Linked-Size}),
 * {@code X-Repo-Commit} on every file answer, {@code X-Error-Code} on failures ({@code RepoNotFound},
 * {@code RevisionNotFound}, {@code EntryNotFound}, {@code GatedRepo}), and {@code Range} on the CDN. It records what
 * it was asked, and can serve corrupt bytes for a file to test verification.
 */
public final class MockHub implements AutoCloseable {
    /** Extensions stored in LFS, as a model repository's {@code .gitattributes} says. */
    private static final Set<String> LFS = Set.of(".safetensors", ".bin", ".model", ".pt");

    private record Revision(String commit, Map<String, byte[]> files) {}

    private record Repo(Map<String, Revision> revisions, String token) {}

    private final Map<String, Repo> repos = new ConcurrentHashMap<>();
    private final Map<String, byte[]> blobsBySha256 = new ConcurrentHashMap<>();
    private final Set<String> corrupt = ConcurrentHashMap.newKeySet();
    private final Map<String, Integer> breaks = new ConcurrentHashMap<>();
    private final HttpServer hub, cdn;

    /** Every request line the hub and the CDN saw, e.g. {@code GET /api/models/o/n/revision/main}. */
    public final List<String> requests = new CopyOnWriteArrayList<>();
    /** {@code Range} headers the CDN received. */
    public final List<String> ranges = new CopyOnWriteArrayList<>();
    /** Requests to the CDN that carried an {@code Authorization} header (the token must stay with the hub). */
    public final AtomicInteger cdnAuthorizations = new AtomicInteger();

    public MockHub() {
        try {
            InetSocketAddress loopback = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
            hub = HttpServer.create(loopback, 0);
            cdn = HttpServer.create(loopback, 0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        hub.createContext("/", this::hub);
        cdn.createContext("/", this::cdn);
        hub.setExecutor(Executors.newVirtualThreadPerTaskExecutor()); // parallel downloads really overlap
        cdn.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        hub.start();
        cdn.start();
    }

    public URI endpoint() { return URI.create("http://127.0.0.1:" + hub.getAddress().getPort()); }

    /**
     * Adds {@code revision} of {@code repo} holding the files of {@code dir} plus {@code extra} (name → content), and
     * returns its commit hash. {@code token} non-null makes the repository gated: files need that bearer token.
     */
    public String add(String repo, String revision, Path dir, Map<String, byte[]> extra, String token) {
        Map<String, byte[]> files = new TreeMap<>();
        files.put(".gitattributes", "*.safetensors filter=lfs diff=lfs merge=lfs -text\n".getBytes(StandardCharsets.UTF_8));
        files.put("README.md", ("# " + repo + "\n").getBytes(StandardCharsets.UTF_8));
        if (dir != null) {
            try (var list = Files.list(dir)) {
                for (Path p : list.sorted().toList()) files.put(p.getFileName().toString(), Files.readAllBytes(p));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        files.putAll(extra);
        String commit = hex("SHA-1", (repo + "@" + revision + files.keySet()).getBytes(StandardCharsets.UTF_8));
        for (byte[] b : files.values()) blobsBySha256.put(hex("SHA-256", b), b);
        Repo r = repos.computeIfAbsent(repo, k -> new Repo(new ConcurrentHashMap<>(), token));
        r.revisions().put(revision, new Revision(commit, Collections.unmodifiableMap(files)));
        r.revisions().put(commit, new Revision(commit, Collections.unmodifiableMap(files)));
        return commit;
    }

    /** From now on the CDN serves {@code content} with one byte flipped (the etag stays the true hash). */
    public void corrupt(byte[] content) { corrupt.add(hex("SHA-256", content)); }

    /**
     * The next download of {@code content} from the CDN stops after {@code bytes} bytes and drops the connection, as a
     * network failure would (the {@code Content-Length} still announces the whole file).
     */
    public void breakAfter(byte[] content, int bytes) { breaks.put(hex("SHA-256", content), bytes); }

    /** How many times the bytes of a file were requested (a GET on the CDN, or a GET of a small file). */
    public long downloads() {
        return requests.stream().filter(r -> r.startsWith("GET /cdn/") || (r.startsWith("GET ") && r.contains("/resolve/")
                && !isLfs(r))).count();
    }

    public static String sha256(byte[] b) { return hex("SHA-256", b); }

    /** The etag the hub gives a small (non-LFS) file: git's blob hash. */
    public static String gitSha1(byte[] b) {
        byte[] header = ("blob " + b.length + "\0").getBytes(StandardCharsets.US_ASCII);
        byte[] all = new byte[header.length + b.length];
        System.arraycopy(header, 0, all, 0, header.length);
        System.arraycopy(b, 0, all, header.length, b.length);
        return hex("SHA-1", all);
    }

    public static boolean isLfs(String path) {
        return LFS.stream().anyMatch(path::endsWith);
    }

    private void hub(HttpExchange ex) throws IOException {
        try (ex) {
            String raw = ex.getRequestURI().getRawPath();
            requests.add(ex.getRequestMethod() + " " + raw);
            if (raw.startsWith("/api/models/")) {
                api(ex, raw.substring("/api/models/".length()));
            } else {
                resolve(ex, raw.substring(1));
            }
        }
    }

    private void api(HttpExchange ex, String rest) throws IOException {
        String[] parts = rest.split("/", 4); // org, name, "revision", the revision (percent-encoded, one segment)
        if (parts.length < 4 || !parts[2].equals("revision")) {
            error(ex, 404, null, "Not found");
            return;
        }
        String repoId = parts[0] + "/" + parts[1];
        String revision = decode(parts[3]);
        Repo repo = repos.get(repoId);
        if (repo == null) {
            error(ex, 401, "RepoNotFound", "Repository not found");
            return;
        }
        Revision rev = repo.revisions().get(revision);
        if (rev == null) {
            error(ex, 404, "RevisionNotFound", "Invalid rev id: " + revision);
            return;
        }
        StringBuilder json = new StringBuilder("{\"_id\":\"x\",\"id\":\"" + repoId + "\",\"private\":false,\"gated\":"
                + (repo.token() == null ? "false" : "\"manual\"") + ",\"sha\":\"" + rev.commit()
                + "\",\"library_name\":\"transformers\",\"siblings\":[");
        List<String> names = new ArrayList<>(rev.files().keySet());
        for (int i = 0; i < names.size(); i++) {
            json.append(i == 0 ? "" : ",").append("{\"rfilename\":\"").append(names.get(i)).append("\"}");
        }
        json.append("]}");
        byte[] body = json.toString().getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
        ex.sendResponseHeaders(200, body.length);
        ex.getResponseBody().write(body);
    }

    private void resolve(HttpExchange ex, String rest) throws IOException {
        String[] parts = rest.split("/", 5); // org, name, "resolve", revision, path
        if (parts.length < 5 || !parts[2].equals("resolve")) {
            error(ex, 404, null, "Not found");
            return;
        }
        Repo repo = repos.get(parts[0] + "/" + parts[1]);
        if (repo == null) {
            error(ex, 401, "RepoNotFound", "Repository not found");
            return;
        }
        if (repo.token() != null && !("Bearer " + repo.token()).equals(ex.getRequestHeaders().getFirst("Authorization"))) {
            error(ex, 401, "GatedRepo", "Access to model " + parts[0] + "/" + parts[1] + " is restricted.");
            return;
        }
        Revision rev = repo.revisions().get(decode(parts[3]));
        if (rev == null) {
            error(ex, 404, "RevisionNotFound", "Invalid rev id");
            return;
        }
        String path = decode(parts[4]);
        byte[] content = rev.files().get(path);
        if (content == null) {
            error(ex, 404, "EntryNotFound", "Entry not found");
            return;
        }
        Headers h = ex.getResponseHeaders();
        h.set("X-Repo-Commit", rev.commit());
        if (isLfs(path)) {
            String sha = sha256(content);
            h.set("X-Linked-Etag", "\"" + sha + "\"");
            h.set("X-Linked-Size", String.valueOf(content.length));
            h.set("ETag", "\"" + sha + "\"");
            h.set("Location", "http://127.0.0.1:" + cdn.getAddress().getPort() + "/cdn/" + sha + "?X-Amz-Signature=abc");
            ex.sendResponseHeaders(302, -1);
            return;
        }
        h.set("ETag", "\"" + gitSha1(content) + "\"");
        h.set("Content-Type", "text/plain; charset=utf-8");
        if (ex.getRequestMethod().equals("HEAD")) {
            h.set("Content-Length", String.valueOf(content.length));
            ex.sendResponseHeaders(200, -1);
            return;
        }
        ex.sendResponseHeaders(200, content.length);
        ex.getResponseBody().write(content);
    }

    private void cdn(HttpExchange ex) throws IOException {
        try (ex) {
            requests.add(ex.getRequestMethod() + " " + ex.getRequestURI().getRawPath());
            if (ex.getRequestHeaders().containsKey("Authorization")) cdnAuthorizations.incrementAndGet();
            String sha = ex.getRequestURI().getRawPath().substring("/cdn/".length());
            byte[] content = blobsBySha256.get(sha);
            if (content == null) {
                ex.sendResponseHeaders(404, -1);
                return;
            }
            if (corrupt.contains(sha)) {
                content = content.clone();
                content[content.length / 2] ^= 0x5a;
            }
            Headers h = ex.getResponseHeaders();
            h.set("Accept-Ranges", "bytes");
            h.set("ETag", "\"" + sha + "\"");
            h.set("Content-Type", "application/octet-stream");
            String range = ex.getRequestHeaders().getFirst("Range");
            long from = 0;
            if (range != null) {
                ranges.add(range);
                from = Long.parseLong(range.substring("bytes=".length(), range.indexOf('-')));
                if (from >= content.length) {
                    h.set("Content-Range", "bytes */" + content.length);
                    ex.sendResponseHeaders(416, -1);
                    return;
                }
                h.set("Content-Range", "bytes " + from + "-" + (content.length - 1) + "/" + content.length);
            }
            int length = content.length - (int) from;
            if (ex.getRequestMethod().equals("HEAD")) {
                h.set("Content-Length", String.valueOf(length));
                ex.sendResponseHeaders(range == null ? 200 : 206, -1);
                return;
            }
            ex.sendResponseHeaders(range == null ? 200 : 206, length);
            Integer cut = breaks.remove(sha);
            if (cut != null) {
                OutputStream out = ex.getResponseBody();
                out.write(content, (int) from, Math.min(cut, length));
                out.flush();
                throw new IOException("connection dropped on purpose"); // the server closes it, short of its length
            }
            try (OutputStream out = ex.getResponseBody()) {
                out.write(content, (int) from, length);
            }
        }
    }

    private static void error(HttpExchange ex, int status, String code, String message) throws IOException {
        if (code != null) ex.getResponseHeaders().set("X-Error-Code", code);
        ex.getResponseHeaders().set("X-Error-Message", message);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        byte[] body = ("{\"error\":\"" + message + "\"}").getBytes(StandardCharsets.UTF_8);
        if (ex.getRequestMethod().equals("HEAD")) {
            ex.sendResponseHeaders(status, -1);
        } else {
            ex.sendResponseHeaders(status, body.length);
            ex.getResponseBody().write(body);
        }
    }

    private static String decode(String s) { return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8); }

    private static String hex(String algorithm, byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance(algorithm).digest(b));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Files of a directory by name, for building expectations. */
    public static Map<String, byte[]> filesOf(Path dir) {
        Map<String, byte[]> m = new LinkedHashMap<>();
        try (var list = Files.list(dir)) {
            for (Path p : list.sorted().toList()) m.put(p.getFileName().toString(), Files.readAllBytes(p));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return m;
    }

    @Override
    public void close() {
        hub.stop(0);
        cdn.stop(0);
    }
}
