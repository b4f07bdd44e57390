package dev.fabric.escrow.sidecar;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/**
 * The escrow sidecar: an escrowd serving the pod's shared socket directory, with Kubernetes probes
 * and Prometheus metrics on an HTTP port that serves nothing but the actuator (8471 by default).
 * The engine is the plain-Java {@code Escrowd}; this app only starts it, watches it and stops it.
 */
@SpringBootApplication
@ConfigurationPropertiesScan
public class EscrowSidecarApplication {

    public static void main(String[] args) {
        SpringApplication.run(EscrowSidecarApplication.class, args);
    }
}
