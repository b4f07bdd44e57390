package dev.fabric.cli.commands.console;

import dev.fabric.cli.common.Output;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** {@code --open}: the desktop's browser through {@code xdg-open} (Linux) or {@code open} (macOS), if there is one. */
final class Browser {

    private Browser() {}

    static void open(String url, Output out) {
        for (String opener : List.of("/usr/bin/xdg-open", "/usr/bin/open")) {
            if (Files.isExecutable(Path.of(opener))) {
                try {
                    new ProcessBuilder(opener, url).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                    return;
                } catch (IOException e) {
                    out.note("fabric console: " + opener + " failed (" + e.getMessage() + "); open the URL by hand");
                    return;
                }
            }
        }
        out.note("fabric console: no browser opener (xdg-open) on this machine; open the URL by hand");
    }
}
