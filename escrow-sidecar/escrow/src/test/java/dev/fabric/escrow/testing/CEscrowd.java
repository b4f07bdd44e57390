package dev.fabric.escrow.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The seed's C escrowd, for the tests and benchmarks that run it beside ours. Its sources are not in
 * this repository (the seed's text describes the library; the C code is the seed author's): give a
 * built daemon with {@code -Descrow.cEscrowd=/path/to/escrowd}, or the directory of its
 * {@code escrow.c}, {@code escrow.h} and {@code main.c} with {@code -Descrow.cEscrowSources=DIR},
 * which is compiled here as the seed's {@code build} script does ({@code cc -O2}, assertions on).
 * Absent both, the callers skip with a message saying so.
 */
public final class CEscrowd {

    private CEscrowd() {
    }

    /** The C escrowd to run, built into {@code dir} from the given sources if needed; empty when none is configured. */
    public static Optional<Path> binary(Path dir) throws IOException, InterruptedException {
        String built = System.getProperty("escrow.cEscrowd", System.getProperty("bench.cEscrowd"));
        if (built != null && !built.isBlank()) {
            Path path = Path.of(built);
            if (!Files.isExecutable(path)) {
                throw new IllegalStateException("-Descrow.cEscrowd=" + built + " is not an executable file");
            }
            return Optional.of(path);
        }
        String sources = System.getProperty("escrow.cEscrowSources");
        if (sources == null || sources.isBlank()) {
            return Optional.empty();
        }
        Path binary = dir.resolve("c-escrowd");
        Process cc = new ProcessBuilder("gcc", "-O2", "-o", binary.toString(), Path.of(sources, "escrow.c").toString(),
                Path.of(sources, "main.c").toString()).redirectErrorStream(true).start();
        String output = new String(cc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!cc.waitFor(120, TimeUnit.SECONDS) || cc.exitValue() != 0) {
            throw new IllegalStateException("gcc could not build the C escrowd from " + sources + ":\n" + output);
        }
        return Optional.of(binary);
    }

    /** Why a test skips without it. */
    public static final String HOW = "the seed's C escrowd is not configured: run with -Descrow.cEscrowd=/path/to/escrowd or "
            + "-Descrow.cEscrowSources=DIR (escrow.c, escrow.h, main.c of the seed's C escrow)";
}
