package dev.fabric.spawner.launch;

import dev.fabric.core.spring.FabricRestClients;
import dev.fabric.spawner.SpawnerApplication;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.web.client.RestClient;
import org.springframework.web.client.RestClientException;

import java.time.Duration;

/**
 * The training run of the members' JDK AOT cache (docker/base/aot-cache.sh,
 * {@code fabric_aot_member_cache}), never a member's own start: the member's whole start, up to
 * ready and listening, then its first requests, then its exit. It starts {@link SpawnerApplication}
 * on the member's class path with the member's options and environment, as a member starts (the
 * cache then holds what a member loads after its context's refresh too: the web server's start, the
 * bootstrap's first dial, the dispatcher servlet and its first answers), asks its own readiness
 * (three times) and liveness probes, prints {@link #COMPLETE} when all of them answered, and ends
 * the member. The cache is written at the JVM's exit, whatever its status, also when the member
 * failed before it was ready: so the script keeps only the cache of a run that printed the line.
 * The training's spawner does not answer: should the training hang, the member's bootstrap ends it
 * when the script's {@code fabric.member.spawner-timeout} is over (SPAWNER_UNREACHABLE), and the
 * JVM exits {@link #LIMIT} after it is ready whatever happens.
 */
public final class MemberTraining {

    /** The longest the training runs after the member is ready; the script bounds the whole run too. */
    static final Duration LIMIT = Duration.ofSeconds(30);

    /** The line printed when the member was ready and answered all its probes; aot-cache.sh looks for it in the run's output. */
    static final String COMPLETE = "fabric member training: complete";

    private MemberTraining() {
    }

    public static void main(String[] args) {
        SpringApplication member = new SpringApplication(SpawnerApplication.class);
        // Spring's AOT mode finds the member's generated bean definitions by the main class's name.
        member.setMainApplicationClass(SpawnerApplication.class);
        ConfigurableApplicationContext context = member.run(args);
        Thread.ofPlatform().name("member-training-limit").daemon(true).start(() -> {
            try {
                Thread.sleep(LIMIT);
            } catch (InterruptedException e) {
                return;
            }
            System.exit(SpringApplication.exit(context, () -> 0));
        });
        String port = context.getEnvironment().getProperty("local.server.port");
        String address = context.getEnvironment().getProperty("server.address", "127.0.0.1");
        RestClient own = FabricRestClients.plain(Duration.ofSeconds(2), Duration.ofSeconds(10))
                .baseUrl("http://" + address + ":" + port).build();
        boolean answered = true;
        for (String probe : new String[] {"readiness", "readiness", "readiness", "liveness"}) {
            try {
                own.get().uri("/actuator/health/" + probe).retrieve().toBodilessEntity();
            } catch (RestClientException e) {
                answered = false;
                System.err.println("member training: /actuator/health/" + probe + ": " + e.getMessage());
            }
        }
        if (answered) {
            System.out.println(COMPLETE);
        }
        // Ended here, not by the bootstrap's timeout: a probe still waiting for its answer when the bootstrap
        // closes the context would lose the cache, so that timeout is long and only a backstop.
        System.exit(SpringApplication.exit(context, () -> 0));
    }
}
