package io.paddock.hub;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;

/**
 * The hub cache in {@code huggingface_hub}'s layout, so that the Python tools and paddock share downloads:
 * <pre>
 * {root}/models--ORG--NAME/blobs/{etag}                  file contents, named by the hub's etag (sha256 for LFS files)
 *                         /blobs/{etag}.incomplete       a download in progress, resumed from its length
 *                         /snapshots/{commit}/{path}     relative symlinks to ../../blobs/{etag}
 *                         /refs/{revision}               the commit a branch or tag pointed at when last pulled
 * {root}/.locks/models--ORG--NAME/{etag}.lock             held while that blob downloads
 * </pre>
 */
public record HubCache(Path root) {

    public Path repoDir(String repo) { return root.resolve("models--" + repo.replace("/", "--")); }

    public Path blob(String repo, String etag) { return repoDir(repo).resolve("blobs").resolve(etag); }

    public Path incomplete(String repo, String etag) { return repoDir(repo).resolve("blobs").resolve(etag + ".incomplete"); }

    /**
     * The lock file a download of blob {@code etag} holds, where {@code huggingface_hub} keeps its own
     * ({@code {root}/.locks/models--ORG--NAME/{etag}.lock}), so that two processes sharing a cache (two replicas on one
     * volume, paddock and a Python tool) never write one blob at once.
     */
    public Path lockFile(String repo, String etag) {
        return root.resolve(".locks").resolve(repoDir(repo).getFileName()).resolve(etag + ".lock");
    }

    public Path snapshot(String repo, String commit) { return repoDir(repo).resolve("snapshots").resolve(commit); }

    public Path refFile(String repo, String revision) { return repoDir(repo).resolve("refs").resolve(revision); }

    /** The snapshot directory the cache holds for {@code ref}, without asking the hub. */
    public Optional<Path> cachedSnapshot(HubRef ref) {
        Optional<String> commit = ref.revisionIsCommit() ? Optional.of(ref.revision()) : readRef(ref.repo(), ref.revision());
        return commit.map(c -> snapshot(ref.repo(), c)).filter(Files::isDirectory);
    }

    /** The commit {@code refs/{revision}} holds, if the revision was pulled before. */
    public Optional<String> readRef(String repo, String revision) {
        Path f = refFile(repo, revision);
        try {
            return Files.isRegularFile(f) ? Optional.of(Files.readString(f, StandardCharsets.UTF_8).trim()) : Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + f, e);
        }
    }

    /**
     * Records that {@code revision} points at {@code commit}: written whole under a name of its own, then renamed, so a
     * reader never sees half a hash and two pulls of one revision (threads or processes) never share a temporary file.
     */
    public void writeRef(String repo, String revision, String commit) throws IOException {
        if (revision.equals(commit)) return;
        Path f = refFile(repo, revision);
        Files.createDirectories(f.getParent());
        Path tmp = Files.createTempFile(f.getParent(), "." + f.getFileName(), ".tmp");
        try {
            Files.writeString(tmp, commit, StandardCharsets.UTF_8);
            Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * Points {@code snapshots/{commit}/{path}} at the blob with a relative link (so the cache can move as a whole); a
     * file system without symlinks gets a copy, as {@code huggingface_hub} does on Windows.
     */
    public Path link(String repo, String commit, String path, String etag) throws IOException {
        Path snapshotDir = snapshot(repo, commit);
        Path target = snapshotDir.resolve(path).normalize();
        if (!target.startsWith(snapshotDir)) throw new HubException("refusing file path '" + path + "' outside the snapshot");
        Files.createDirectories(target.getParent());
        Path blob = blob(repo, etag);
        Path relative = target.getParent().relativize(blob);
        // made under a name of its own and renamed over the target, so two pulls of one snapshot never race
        Path tmp = target.resolveSibling("." + target.getFileName() + "." + ProcessHandle.current().pid() + "."
                + Thread.currentThread().threadId() + ".tmp");
        Files.deleteIfExists(tmp);
        try {
            try {
                Files.createSymbolicLink(tmp, relative);
            } catch (UnsupportedOperationException | FileSystemException e) {
                Files.copy(blob, tmp, StandardCopyOption.REPLACE_EXISTING);
            }
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
        return target;
    }
}
