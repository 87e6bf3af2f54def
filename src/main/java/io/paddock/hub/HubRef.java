package io.paddock.hub;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * A model on the hub, {@code ORG/NAME[:REVISION]}; the revision is a branch, a tag or a commit and defaults to
 * {@code main}. Branch names may hold characters a URL must escape ({@code gptq-4bit-32g-actorder_True}, {@code refs/pr/1}).
 */
public record HubRef(String repo, String revision) {
    /** {@code org/name}: one slash, the characters the hub allows in a repository id. */
    private static final Pattern REPO = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9._-]+");
    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");
    public static final String DEFAULT_REVISION = "main";

    public HubRef {
        if (!REPO.matcher(repo).matches()) throw new HubException("'" + repo + "' is not a hub repository id (ORG/NAME)");
        if (revision == null || revision.isBlank()) revision = DEFAULT_REVISION;
    }

    /** Parses {@code ORG/NAME[:REVISION]}, or fails with a message that shows the expected form. */
    public static HubRef parse(String value) {
        int colon = value.indexOf(':');
        String repo = colon < 0 ? value : value.substring(0, colon);
        String revision = colon < 0 ? DEFAULT_REVISION : value.substring(colon + 1);
        if (!REPO.matcher(repo).matches()) {
            throw new HubException("'" + value + "' is not a hub model: expected ORG/NAME or ORG/NAME:REVISION");
        }
        if (revision.isBlank()) throw new HubException("'" + value + "': the revision after ':' is empty");
        return new HubRef(repo, revision);
    }

    /**
     * True where a {@code --model} value names a hub model rather than a directory: {@code ORG/NAME[:REVISION]} with
     * exactly one slash before the revision, and no such path on disk (an existing directory always wins).
     */
    public static boolean isHubModel(String value) {
        if (value == null || value.isBlank()) return false;
        try {
            if (Files.exists(Path.of(value))) return false;
        } catch (InvalidPathException e) {
            // not a path on this platform (a ':' on Windows): may still be a hub reference
        }
        int colon = value.indexOf(':');
        String repo = colon < 0 ? value : value.substring(0, colon);
        return REPO.matcher(repo).matches() && (colon < 0 || colon < value.length() - 1);
    }

    /** Whether the revision is already a full commit hash (then no ref file is needed to find its snapshot). */
    public boolean revisionIsCommit() { return COMMIT.matcher(revision).matches(); }

    /** {@code ORG/NAME} for the default revision, {@code ORG/NAME:REVISION} otherwise. */
    @Override
    public String toString() { return revision.equals(DEFAULT_REVISION) ? repo : repo + ":" + revision; }
}
