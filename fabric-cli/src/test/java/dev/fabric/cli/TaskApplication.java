package dev.fabric.cli;

import dev.fabric.core.client.FabricClient;
import dev.fabric.core.client.FabricConnection;
import dev.fabric.core.client.TaskManager;
import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.task.TaskDescription;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * An application of the fabric in its own JVM, for {@code TasksIT} to kill: it connects to a pilot
 * manager in a session, saves its connection (registry, keys, session) as an application does for
 * its fail-over, submits tasks, says so on stdout, and waits for them.
 *
 * <p>Arguments: registry URL, key directory, connection file, pilot manager id, session, pilot id, task count.
 */
public final class TaskApplication {

    private TaskApplication() {}

    public static void main(String[] args) throws Exception {
        URI registry = URI.create(args[0]);
        Path keys = Path.of(args[1]);
        Path connectionFile = Path.of(args[2]);
        String manager = args[3];
        String session = args[4];
        String pilot = args[5];
        int count = Integer.parseInt(args[6]);
        try (FabricClient fabric = FabricClient.builder(registry, FabricKeys.load(keys)).name("task-application").build()) {
            TaskManager tasks = fabric.tasks(manager, session);
            new FabricConnection(registry, keys, List.of(session)).save(connectionFile);
            List<TaskDescription> descriptions = IntStream.range(0, count)
                    .mapToObj(i -> new TaskDescription("app-" + i, pilot, List.of("sh", "-c", "sleep 0.05; echo app $0", Integer.toString(i)),
                            Map.of(), null, "1m", "app")).toList();
            List<String> ids = tasks.submit(pilot, descriptions);
            System.out.println("submitted " + ids.size());
            System.out.flush();
            TaskManager.Outcome outcome = tasks.waitAll(ids, Duration.ofMinutes(10));
            System.out.println("ended " + outcome.finished().size());
        }
    }
}
