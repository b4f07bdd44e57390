package dev.fabric.fab.plan;

import java.util.List;

/** The stages to run, in order; each runs only after the previous one succeeded. Empty when all is up to date. */
public record BuildPlan(List<Stage> stages) {
    public BuildPlan {
        stages = List.copyOf(stages);
    }

    public int commandCount() {
        return stages.stream().mapToInt(s -> s.commands().size()).sum();
    }

    /** The plan as {@code fab -p} prints it: stages, commands, and why each is out of date. */
    public String describe() {
        if (stages.isEmpty()) {
            return "fab: nothing to do, everything is up to date\n";
        }
        StringBuilder sb = new StringBuilder();
        sb.append("plan: ").append(stages.size()).append(" stage(s), ").append(commandCount()).append(" command(s)\n");
        for (Stage stage : stages) {
            sb.append("stage ").append(stage.number()).append('/').append(stages.size()).append('\n');
            for (Command c : stage.commands()) {
                sb.append("  ").append(String.join(" ", c.formula().targets())).append("  (").append(c.reason()).append(")\n");
                for (String line : c.formula().command().split("\n")) {
                    sb.append("    ").append(line).append('\n');
                }
            }
        }
        return sb.toString();
    }
}
