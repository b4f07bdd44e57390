package dev.fabric.spawner.kubernetes;

import org.springframework.cloud.client.ServiceInstance;
import org.springframework.cloud.client.discovery.DiscoveryClient;

import java.net.URI;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Where the registry is: {@code fabric.spawner.registry-url} when it is set; otherwise an instance
 * of the registry's Service as the discovery client sees it (in a cluster: Spring Cloud Kubernetes,
 * from the Service's ready endpoints). Asked again on each call, so a caller that lost the
 * registry gets a current address.
 */
public final class RegistryLocator {

    private final Optional<URI> configured;
    private final DiscoveryClient discovery;
    private final String registryService;

    /**
     * @param configured {@code fabric.spawner.registry-url}, if set
     * @param discovery the application's discovery client, or null when there is none
     * @param registryService the registry's Service name (e.g. {@code fabric-registry})
     */
    public RegistryLocator(Optional<URI> configured, DiscoveryClient discovery, String registryService) {
        this.configured = Objects.requireNonNull(configured, "configured");
        this.discovery = discovery;
        this.registryService = Objects.requireNonNull(registryService, "registryService");
    }

    /** The registry's base URL. */
    public URI registryUrl() {
        if (configured.isPresent()) {
            return configured.get();
        }
        if (discovery == null) {
            throw new IllegalStateException("fabric.spawner.registry-url is not set and there is no discovery client to find the "
                    + "registry Service '" + registryService + "' with: set fabric.spawner.registry-url (FABRIC_REGISTRY_URL)");
        }
        List<ServiceInstance> instances = discovery.getInstances(registryService);
        // The same answer for the same endpoints, so two lookups do not flip between registry pods.
        return instances.stream()
                .min(Comparator.comparing((ServiceInstance instance) -> instance.getUri().toString()))
                .map(ServiceInstance::getUri)
                .orElseThrow(() -> new IllegalStateException("no ready instance of the registry Service '" + registryService
                        + "' through " + discovery.description() + ": check that the registry runs and is ready in this namespace, "
                        + "set fabric.spawner.kubernetes.registry-service to its Service name, or set fabric.spawner.registry-url"));
    }

    /** Whether the URL comes from configuration rather than discovery. */
    public boolean isConfigured() {
        return configured.isPresent();
    }
}
