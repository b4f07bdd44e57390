package dev.fabric.spawner;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;
import org.springframework.scheduling.annotation.EnableScheduling;

/**
 * The fabric node. Without a profile it is a spawner: it holds the fabric keys, spawns members and
 * restarts them. With the {@code member} profile (set by its spawner) the same jar is a spawned
 * member: it redeems its one-time password, is configured over its management port and runs a role.
 */
@SpringBootApplication
@ConfigurationPropertiesScan
@EnableScheduling
public class SpawnerApplication {

    public static void main(String[] args) {
        SpringApplication.run(SpawnerApplication.class, args);
    }
}
