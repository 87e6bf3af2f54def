package io.paddock.hub;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The three calls of the hub's HTTP API that a download needs, as {@code huggingface_hub} makes them: the revision's
 * commit and file list, a file's metadata (a HEAD that does not follow the LFS redirect, whose headers carry the sha256),
 * and the file's bytes from where that redirect points, from an offset. Every failure becomes one {@link HubException}.
 */
public final class HubClient {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final HubSettings settings;
    private final HttpClient http;

    public HubClient(HubSettings settings) {
        this.settings = settings;
        // Redirects are followed by hand: the metadata is on the hub's redirect itself, and the token must not travel
        // to the CDN the redirect points at.
        this.http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).connectTimeout(TIMEOUT).build();
    }

    /** A revision as the hub reports it: the commit it resolves to and every file path in it. */
    public record RepoInfo(String commit, List<String> files) {}

    /**
     * A file's metadata: the etag that names its blob (for an LFS file, the sha256 of its contents), its size (-1 if
     * not sent), and where to GET it (the CDN location for LFS files).
     */
    public record FileMeta(String etag, long size, URI location) {}

    /** {@code GET /api/models/{repo}/revision/{revision}}. */
    public RepoInfo info(HubRef ref) {
        URI uri = URI.create(settings.endpoint() + "/api/models/" + ref.repo() + "/revision/" + encode(ref.revision()));
        HttpResponse<byte[]> r = send(request(uri).GET().build(), HttpResponse.BodyHandlers.ofByteArray(), ref, null);
        if (r.statusCode() != 200) throw failure(r.statusCode(), r.headers(), ref, null);
        try {
            JsonNode root = JSON.readTree(r.body());
            String sha = root.path("sha").asString(null);
            if (sha == null || sha.isBlank()) throw new HubException(uri + " answered without a commit ('sha')");
            List<String> files = new ArrayList<>();
            for (JsonNode s : root.path("siblings")) {
                String name = s.path("rfilename").asString(null);
                if (name != null) files.add(name);
            }
            return new RepoInfo(sha, List.copyOf(files));
        } catch (JacksonException e) {
            throw new HubException(uri + " answered with malformed JSON: " + e.getOriginalMessage());
        }
    }

    /** {@code HEAD /{repo}/resolve/{commit}/{path}}, following only same-host redirects (a renamed repository). */
    public FileMeta meta(HubRef ref, String commit, String path) {
        URI uri = resolveUri(ref.repo(), commit, path);
        for (int hops = 0; hops < 5; hops++) {
            HttpResponse<Void> r = send(request(uri).method("HEAD", HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.discarding(), ref, path);
            var h = r.headers();
            int code = r.statusCode();
            if (code >= 400) throw failure(code, h, ref, path);
            Optional<String> linkedEtag = h.firstValue("X-Linked-Etag");
            String etag = linkedEtag.or(() -> h.firstValue("ETag")).map(HubClient::unquote).orElse(null);
            long size = h.firstValueAsLong("X-Linked-Size").orElse(code / 100 == 2
                    ? h.firstValueAsLong("Content-Length").orElse(-1) : -1);
            URI location = code / 100 == 3 ? h.firstValue("Location").map(uri::resolve).orElse(null) : uri;
            if (location == null) throw new HubException(uri + ": HTTP " + code + " without a Location");
            if (code / 100 == 3 && linkedEtag.isEmpty() && sameHost(location)) {
                uri = location; // a repository rename, not an LFS redirect: ask again there
                continue;
            }
            if (etag == null || etag.isBlank()) {
                throw new HubException(ref + ": " + path + ": the hub sent no ETag (a proxy in between may strip it)");
            }
            return new FileMeta(etag, size, location);
        }
        throw new HubException(ref + ": " + path + ": too many redirects");
    }

    /**
     * Opens the bytes of {@code location} from {@code offset}. The body's first byte is at {@link Body#offset()}: the
     * offset asked for where the server honoured the {@code Range}, 0 where it sent the whole file.
     */
    public Body open(HubRef ref, String path, URI location, long offset) {
        for (int hops = 0; hops < 5; hops++) {
            HttpRequest.Builder b = sameHost(location) ? request(location) : HttpRequest.newBuilder(location);
            if (offset > 0) b.header("Range", "bytes=" + offset + "-");
            HttpResponse<InputStream> r = send(b.GET().build(), HttpResponse.BodyHandlers.ofInputStream(), ref, path);
            int code = r.statusCode();
            if (code / 100 == 3) {
                closeQuietly(r.body());
                URI next = location;
                location = r.headers().firstValue("Location").map(next::resolve)
                        .orElseThrow(() -> new HubException(next + ": HTTP " + code + " without a Location"));
                continue;
            }
            if (code == 206) return new Body(r.body(), offset);
            if (code == 200) return new Body(r.body(), 0);
            closeQuietly(r.body());
            if (code == 416) return open(ref, path, location, 0); // the partial file is past the end: start over
            throw failure(code, r.headers(), ref, path);
        }
        throw new HubException(ref + ": " + path + ": too many redirects");
    }

    /** A download stream and the file offset of its first byte. */
    public record Body(InputStream in, long offset) {}

    private HttpRequest.Builder request(URI uri) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(TIMEOUT).header("User-Agent", "paddock");
        if (settings.token() != null) b.header("Authorization", "Bearer " + settings.token());
        return b;
    }

    private <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> handler, HubRef ref, String path) {
        try {
            return http.send(request, handler);
        } catch (HttpTimeoutException e) {
            throw new HubException("no answer from " + request.uri().getHost() + " within " + TIMEOUT.toSeconds()
                    + " s" + (path == null ? "" : " (" + path + ")") + offlineHint(), e);
        } catch (IOException e) {
            throw new HubException("cannot reach " + request.uri().getScheme() + "://" + request.uri().getAuthority()
                    + ": " + describe(e) + offlineHint(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HubException("interrupted while talking to " + request.uri().getHost(), e);
        }
    }

    /** One line per failure, naming what was not found or what to do, as the hub's {@code X-Error-Code} tells. */
    private HubException failure(int code, java.net.http.HttpHeaders h, HubRef ref, String path) {
        String errorCode = h.firstValue("X-Error-Code").orElse("");
        String what = path == null ? "" : " (" + path + ")";
        if (errorCode.equals("RepoNotFound") || (code == 404 && path == null && errorCode.isEmpty() && ref.revision().equals(HubRef.DEFAULT_REVISION))) {
            return new HubException("repository " + ref.repo() + " not found on " + settings.endpoint()
                    + (code == 401 && settings.token() == null ? " (if it is private, set HF_TOKEN)" : ""));
        }
        if (errorCode.equals("RevisionNotFound")) {
            return new HubException("revision '" + ref.revision() + "' not found in " + ref.repo()
                    + " (a branch, tag or commit of the repository)");
        }
        if (errorCode.equals("EntryNotFound")) return new HubException(ref + ": file '" + path + "' not found");
        if (code == 401 || code == 403) {
            return new HubException(ref.repo() + " is gated or private (HTTP " + code + ")" + what + ": "
                    + (settings.token() == null
                            ? "accept its terms on the hub and set HF_TOKEN to an access token"
                            : "the token in HF_TOKEN has no access to it; accept its terms on the hub with that account"));
        }
        if (code == 404) {
            return new HubException(path == null
                    ? "repository " + ref.repo() + " or its revision '" + ref.revision() + "' not found on " + settings.endpoint()
                    : ref + ": file '" + path + "' not found");
        }
        if (code == 429) return new HubException(settings.endpoint() + " is rate limiting requests (HTTP 429); try again later");
        return new HubException(ref + what + ": the hub answered HTTP " + code
                + h.firstValue("X-Error-Message").map(m -> " (" + m + ")").orElse(""));
    }

    private static String offlineHint() {
        return "; to use what the cache holds, set HF_HUB_OFFLINE=1";
    }

    private static String describe(IOException e) {
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
    }

    private boolean sameHost(URI uri) {
        return uri.getAuthority() != null && uri.getAuthority().equalsIgnoreCase(settings.endpoint().getAuthority());
    }

    private URI resolveUri(String repo, String commit, String path) {
        StringBuilder p = new StringBuilder();
        for (String seg : path.split("/")) p.append('/').append(encode(seg));
        return URI.create(settings.endpoint() + "/" + repo + "/resolve/" + encode(commit) + p);
    }

    /** Percent-encodes everything but RFC 3986's unreserved characters ({@code quote(s, safe="")} in Python). */
    static String encode(String s) {
        StringBuilder b = new StringBuilder();
        for (byte x : s.getBytes(StandardCharsets.UTF_8)) {
            int c = x & 0xff;
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.'
                    || c == '_' || c == '~') {
                b.append((char) c);
            } else {
                b.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 15, 16)));
            }
        }
        return b.toString();
    }

    /** {@code "abc"} and {@code W/"abc"} to {@code abc}. */
    static String unquote(String etag) {
        String e = etag.trim();
        if (e.startsWith("W/")) e = e.substring(2);
        if (e.length() >= 2 && e.startsWith("\"") && e.endsWith("\"")) e = e.substring(1, e.length() - 1);
        return e;
    }

    private static void closeQuietly(InputStream in) {
        try {
            in.close();
        } catch (IOException ignored) {
            // nothing was read from it
        }
    }
}
