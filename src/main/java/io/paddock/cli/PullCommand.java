package io.paddock.cli;

import io.paddock.hub.HubException;
import io.paddock.hub.HubPuller;
import io.paddock.hub.HubRef;
import io.paddock.hub.HubSettings;
import io.paddock.hub.IncludeGlobs;
import io.paddock.hub.PullProgress;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Set;

/**
 * {@code paddock pull ORG/NAME[:REVISION] [--include GLOB]... [--dir DIR]}: downloads a hub model into the hub cache
 * and prints the snapshot directory on stdout (a model directory for {@code --model}); progress goes to stderr.
 */
public final class PullCommand {
    private PullCommand() {}

    public static int run(String[] argv, PrintStream out, PrintStream err) {
        return run(argv, out, err, HubSettings.fromEnvironment(), PullProgress.onTerminal());
    }

    /** As above with the hub settings given: the tests point them at a local hub. */
    public static int run(String[] argv, PrintStream out, PrintStream err, HubSettings settings, boolean terminal) {
        CliArgs a = new CliArgs(argv, Set.of("include", "dir"), Set.of());
        if (a.positional().size() != 1) {
            throw new CliArgs.UsageException(a.positional().isEmpty() ? "pull needs a model, ORG/NAME[:REVISION]"
                    : "unexpected argument '" + a.positional().get(1) + "'");
        }
        HubRef ref;
        try {
            ref = HubRef.parse(a.positional().getFirst());
        } catch (HubException e) {
            throw new CliArgs.UsageException(e.getMessage());
        }
        IncludeGlobs include = IncludeGlobs.of(a.all("include"));
        HubPuller puller = new HubPuller(settings, PullProgress.forStream(err, terminal));
        HubPuller.Result r = puller.pull(ref, include);
        err.printf("%s: commit %s, %d downloaded, %d already cached%n", ref, r.commit(), r.downloaded().size(),
                r.cached().size());
        String dir = a.string("dir", null);
        if (dir == null) {
            out.println(r.snapshot());
        } else {
            Path target = Path.of(dir).toAbsolutePath().normalize();
            place(r.snapshot(), target);
            out.println(target);
        }
        return 0;
    }

    /**
     * Puts the snapshot's files into {@code target} as plain files: hard links to the blobs where the file system allows
     * (no second copy of the weights), copies otherwise.
     */
    private static void place(Path snapshot, Path target) {
        try (var walk = Files.walk(snapshot)) {
            for (Path p : (Iterable<Path>) walk::iterator) {
                if (Files.isDirectory(p)) continue;
                Path dest = target.resolve(snapshot.relativize(p).toString());
                Files.createDirectories(dest.getParent());
                Path blob = p.toRealPath();
                Files.deleteIfExists(dest);
                try {
                    Files.createLink(dest, blob);
                } catch (UnsupportedOperationException | FileSystemException e) {
                    Files.copy(blob, dest, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + target + ": " + e.getMessage(), e);
        }
    }
}
