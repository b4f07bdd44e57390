package dev.fabric.spawner.kubernetes;

import org.junit.jupiter.api.Test;
import org.springframework.cloud.client.discovery.simple.InstanceProperties;
import org.springframework.cloud.client.discovery.simple.SimpleDiscoveryClient;
import org.springframework.cloud.client.discovery.simple.SimpleDiscoveryProperties;

import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RegistryLocatorTest {

    @Test
    void configuredUrlIsUsedWithoutAskingDiscovery() {
        RegistryLocator locator = new RegistryLocator(Optional.of(URI.create("http://fabric-registry:8470")), null, "fabric-registry");

        assertThat(locator.registryUrl()).isEqualTo(URI.create("http://fabric-registry:8470"));
        assertThat(locator.isConfigured()).isTrue();
    }

    @Test
    void withoutAUrlTheFirstInstanceOfTheRegistryServiceIsUsed() {
        RegistryLocator locator = new RegistryLocator(Optional.empty(), discovery(Map.of(
                "fabric-registry", List.of("http://10.0.0.9:8470", "http://10.0.0.12:8470"),
                "other", List.of("http://10.0.0.1:80"))), "fabric-registry");

        assertThat(locator.registryUrl()).isEqualTo(URI.create("http://10.0.0.12:8470"));
    }

    @Test
    void noInstanceSaysWhatToCheck() {
        RegistryLocator locator = new RegistryLocator(Optional.empty(), discovery(Map.of()), "fabric-registry");

        assertThatThrownBy(locator::registryUrl)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("no ready instance of the registry Service 'fabric-registry'")
                .hasMessageContaining("fabric.spawner.registry-url");
    }

    @Test
    void noDiscoveryAndNoUrlSaysWhatToSet() {
        assertThatThrownBy(() -> new RegistryLocator(Optional.empty(), null, "fabric-registry").registryUrl())
                .hasMessageContaining("set fabric.spawner.registry-url");
    }

    private static SimpleDiscoveryClient discovery(Map<String, List<String>> services) {
        SimpleDiscoveryProperties properties = new SimpleDiscoveryProperties();
        services.forEach((service, uris) -> properties.getInstances().put(service, uris.stream().map(uri -> {
            InstanceProperties instance = new InstanceProperties();
            instance.setUri(URI.create(uri));
            return instance;
        }).toList()));
        properties.afterPropertiesSet();
        return new SimpleDiscoveryClient(properties);
    }
}
