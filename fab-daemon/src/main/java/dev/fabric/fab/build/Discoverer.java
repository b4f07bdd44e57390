package dev.fabric.fab.build;

import dev.fabric.fab.ExitStatus;
import dev.fabric.fab.FabException;
import dev.fabric.fab.exec.CommandResult;
import dev.fabric.fab.exec.Depfile;
import dev.fabric.fab.fabfile.Discovery;
import dev.fabric.fab.fabfile.Model;
import dev.fabric.fab.graph.Formula;
import dev.fabric.fab.plan.BuildPlan;
import dev.fabric.fab.plan.Command;
import dev.fabric.fab.plan.Stage;
import dev.fabric.fab.plan.State;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs the discoveries of a model before planning: each source whose discovery never ran, whose
 * command changed, or whose content or discovered dependencies changed since is discovered again (all
 * at once, in one stage); the others keep what the state remembers. The output of a discovery is make
 * syntax ({@code cc -MM -MG -MP}); what it names are the source's dependencies, paths relative to the
 * directory the discovery ran in. Output that is not make syntax exits 8 (DSCPARSE).
 */
final class Discoverer {
    private Discoverer() {
    }

    /** Every discovered source with its dependencies, after running the stale discoveries through {@code project}. */
    static Map<String, List<String>> discover(Model model, State state, Build.Project project, Log log, int jobs) {
        Map<String, List<String>> found = new LinkedHashMap<>();
        if (model.discoveries().isEmpty()) {
            return found;
        }
        List<Command> stale = new ArrayList<>();
        Map<Command, Discovery> of = new LinkedHashMap<>();
        for (Discovery d : model.discoveries()) {
            if (state.discoveryStale(d.source(), d.command())) {
                Command c = Command.discovery(new Formula(List.of(), List.of(d.source()), d.command(), d.dir(), d.origin(), null));
                stale.add(c);
                of.put(c, d);
            }
        }
        log.log(Log.Category.DSCINFO, "discovery: " + stale.size() + " of " + model.discoveries().size() + " source(s) to discover");
        stale.forEach(c -> log.log(Log.Category.DSCCMD, c.formula().command()));
        if (!stale.isEmpty()) {
            for (CommandResult r : project.discover(new BuildPlan(List.of(new Stage(1, stale))), state, model, jobs)) {
                Discovery d = of.get(r.command());
                log.log(Log.Category.DSCEXEC, "exit " + r.exitStatus() + ": " + r.command().description());
                List<String> dependencies;
                try {
                    dependencies = Depfile.parseOutput("discovery of " + d.source() + " (" + d.origin() + ")",
                            new String(r.stdout(), StandardCharsets.UTF_8), model.root(), d.dir());
                } catch (FabException e) {
                    throw new FabException(ExitStatus.DSCPARSE, e.getMessage() + "; the discovery command must print make rules, as `cc -MM -MG -MP` does");
                }
                dependencies = new ArrayList<>(dependencies);
                dependencies.remove(d.source());
                state.recordDiscovery(d.source(), d.command(), dependencies, r.started());
            }
        }
        for (Discovery d : model.discoveries()) {
            State.Discovered known = state.discovered(d.source());
            List<String> deps = known == null ? List.of() : known.dependencies();
            found.put(d.source(), deps);
            log.log(Log.Category.DSCRES, d.source() + " discovered " + String.join(" ", deps));
        }
        return found;
    }
}
