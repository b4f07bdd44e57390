package dev.fabric.fab.plan;

import dev.fabric.fab.graph.Formula;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Writes a plan as a standalone POSIX shell script: stage after stage, the commands of a stage in
 * parallel background subshells, each in its formula's directory (relative to {@code FAB_ROOT},
 * default the directory the script runs in). Variables kept with {@code -K} are assigned at the top
 * only when the environment does not set them already.
 */
public final class Buildscript {
    private Buildscript() {
    }

    public static String write(BuildPlan plan, Path root, Map<String, List<String>> kept) {
        StringBuilder sb = new StringBuilder();
        sb.append("#!/bin/sh\n");
        sb.append("# Written by fab -k: performs the build plan (").append(plan.stages().size()).append(" stages, ")
                .append(plan.commandCount()).append(" commands) without fab.\n");
        sb.append("# Run it from the project root, or set FAB_ROOT to it.\n");
        sb.append("set -u\n");
        sb.append("FAB_ROOT=${FAB_ROOT:-$(pwd)}\n");
        kept.forEach((name, value) -> sb.append(name).append("=${").append(name).append("-").append(quote(String.join(" ", value))).append("}\n"));
        sb.append("fab_status=0\n");
        for (Stage stage : plan.stages()) {
            sb.append("\n# stage ").append(stage.number()).append('/').append(plan.stages().size()).append('\n');
            sb.append("fab_pids=\n");
            for (Command c : stage.commands()) {
                Formula f = c.formula();
                String dir = root.relativize(f.dir()).toString();
                sb.append("(\n");
                sb.append("  cd \"$FAB_ROOT\"/").append(quote(dir.isEmpty() ? "." : dir)).append(" || exit 1\n");
                for (String t : f.targets()) {
                    if (!t.startsWith("@")) {
                        Path parent = Path.of(t).getParent();
                        if (parent != null) {
                            sb.append("  mkdir -p \"$FAB_ROOT\"/").append(quote(parent.toString())).append(" || exit 1\n");
                        }
                    }
                }
                sb.append("  set -e\n");
                for (String line : f.command().split("\n")) {
                    sb.append("  ").append(line).append('\n');
                }
                sb.append(") &\n");
                sb.append("fab_pids=\"$fab_pids $!\"\n");
            }
            sb.append("for fab_pid in $fab_pids; do wait \"$fab_pid\" || fab_status=$?; done\n");
            sb.append("if [ \"$fab_status\" -ne 0 ]; then echo \"buildscript: stage ")
                    .append(stage.number()).append(" failed\" >&2; exit 7; fi\n");
        }
        return sb.toString();
    }

    static String quote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }
}
