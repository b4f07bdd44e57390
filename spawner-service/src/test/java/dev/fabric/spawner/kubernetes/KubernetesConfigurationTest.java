package dev.fabric.spawner.kubernetes;

import dev.fabric.spawner.launch.Launcher;
import io.fabric8.kubernetes.api.model.EndpointsBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.context.ConfigurationPropertiesAutoConfiguration;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.validation.autoconfigure.ValidationAutoConfiguration;
import org.springframework.cloud.client.CommonsClientAutoConfiguration;
import org.springframework.cloud.client.discovery.DiscoveryClient;
import org.springframework.cloud.client.discovery.composite.CompositeDiscoveryClientAutoConfiguration;
import org.springframework.cloud.client.discovery.simple.SimpleDiscoveryClientAutoConfiguration;
import org.springframework.cloud.kubernetes.commons.KubernetesCommonsAutoConfiguration;
import org.springframework.cloud.kubernetes.commons.discovery.KubernetesDiscoveryPropertiesAutoConfiguration;
import org.springframework.cloud.kubernetes.fabric8.Fabric8AutoConfiguration;
import org.springframework.cloud.commons.util.UtilAutoConfiguration;
import org.springframework.cloud.kubernetes.fabric8.discovery.Fabric8DiscoveryClientAutoConfiguration;
import org.springframework.cloud.kubernetes.fabric8.discovery.Fabric8DiscoveryClientSpelAutoConfiguration;
import org.springframework.context.annotation.Configuration;

import java.net.URI;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Which Kubernetes parts a spawner gets: the kubernetes launcher only when asked for, Spring Cloud
 * Kubernetes only in a cluster, and the registry from configuration or from discovery.
 */
@EnableKubernetesMockClient(crud = true)
class KubernetesConfigurationTest {

    /** Set by the mock server extension. */
    static KubernetesClient client;

    /** The spawner's configuration with Spring Cloud Kubernetes' own auto-configuration, as the application has them. */
    private final ApplicationContextRunner spawner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(
                    ConfigurationPropertiesAutoConfiguration.class, ValidationAutoConfiguration.class,
                    UtilAutoConfiguration.class, CommonsClientAutoConfiguration.class, SimpleDiscoveryClientAutoConfiguration.class,
                    CompositeDiscoveryClientAutoConfiguration.class,
                    KubernetesCommonsAutoConfiguration.class, KubernetesDiscoveryPropertiesAutoConfiguration.class,
                    Fabric8AutoConfiguration.class, Fabric8DiscoveryClientSpelAutoConfiguration.class,
                    Fabric8DiscoveryClientAutoConfiguration.class))
            .withUserConfiguration(KubernetesConfiguration.class, Settings.class);

    @Configuration(proxyBeanMethods = false)
    @EnableConfigurationProperties(KubernetesLauncherProperties.class)
    static class Settings {}

    @Test
    void outsideAClusterNothingOfKubernetesIsCreated() {
        spawner.withPropertyValues("spring.main.cloud-platform=none", "fabric.spawner.registry-url=http://127.0.0.1:8470")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(context).doesNotHaveBean(Launcher.class);
                    assertThat(context).doesNotHaveBean(KubernetesClient.class);
                    assertThat(context.getBean(DiscoveryClient.class).description()).doesNotContainIgnoringCase("kubernetes");
                    assertThat(context.getBean(RegistryLocator.class).registryUrl()).isEqualTo(URI.create("http://127.0.0.1:8470"));
                });
    }

    @Test
    void kubernetesLauncherWhenAskedForInThePodsNamespace() {
        spawner.withBean(KubernetesClient.class, KubernetesConfigurationTest::newClient)
                .withPropertyValues("spring.main.cloud-platform=none",
                        "fabric.spawner.launcher=kubernetes",
                        "fabric.spawner.kubernetes.image=fabric/spawner-service:1.0",
                        "FABRIC_POD_NAMESPACE=fabric-system",
                        "FABRIC_POD_NAME=fabric-spawner-0")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(context.getBean(Launcher.class)).isInstanceOfSatisfying(KubernetesLauncher.class, launcher -> {
                        assertThat(launcher.name()).isEqualTo("kubernetes");
                        assertThat(launcher.namespace()).isEqualTo("fabric-system");
                    });
                });
    }

    @Test
    void kubernetesLauncherWithoutAnImageStopsTheStartSayingWhatToSet() {
        spawner.withBean(KubernetesClient.class, KubernetesConfigurationTest::newClient)
                .withPropertyValues("spring.main.cloud-platform=none", "fabric.spawner.launcher=kubernetes")
                .run(context -> assertThat(context).getFailure()
                        .rootCause().hasMessageContaining("fabric.spawner.kubernetes.image is required"));
    }

    @Test
    void unknownPullPolicyIsRefused() {
        spawner.withPropertyValues("spring.main.cloud-platform=none", "fabric.spawner.kubernetes.image-pull-policy=Sometimes")
                .run(context -> assertThat(context).getFailure()
                        .hasStackTraceContaining("must be Always, IfNotPresent or Never"));
    }

    @Test
    void membersKeepTheirDataInAClaimOf1GiOfTheDefaultClassUnlessToldOtherwise() {
        spawner.withPropertyValues("spring.main.cloud-platform=none").run(context -> {
            KubernetesLauncherProperties settings = context.getBean(KubernetesLauncherProperties.class);
            assertThat(settings.persistentData()).isTrue();
            assertThat(settings.dataSize()).isEqualTo("1Gi");
            assertThat(settings.dataStorageClass()).isEmpty();
            assertThat(settings.dataOwner()).isEmpty();
        });
        spawner.withPropertyValues("spring.main.cloud-platform=none", "fabric.spawner.kubernetes.persistent-data=false",
                        "fabric.spawner.kubernetes.data-size=20Gi", "fabric.spawner.kubernetes.data-storage-class=fast-ssd",
                        "fabric.spawner.kubernetes.data-owner=fabric-spawner-config")
                .run(context -> {
                    KubernetesLauncherProperties settings = context.getBean(KubernetesLauncherProperties.class);
                    assertThat(settings.persistentData()).isFalse();
                    assertThat(settings.dataSize()).isEqualTo("20Gi");
                    assertThat(settings.dataStorageClass()).isEqualTo("fast-ssd");
                    assertThat(settings.dataOwner()).isEqualTo("fabric-spawner-config");
                });
    }

    @Test
    void dataSizeAndStorageClassAreChecked() {
        spawner.withPropertyValues("spring.main.cloud-platform=none", "fabric.spawner.kubernetes.data-size=1GB")
                .run(context -> assertThat(context).getFailure()
                        .hasStackTraceContaining("must be a storage size in Mi, Gi or Ti, like 1Gi"));
        spawner.withPropertyValues("spring.main.cloud-platform=none", "fabric.spawner.kubernetes.data-storage-class=Fast SSD")
                .run(context -> assertThat(context).getFailure()
                        .hasStackTraceContaining("must be empty (the cluster's default) or a StorageClass name"));
        spawner.withPropertyValues("spring.main.cloud-platform=none", "fabric.spawner.kubernetes.data-owner=-config")
                .run(context -> assertThat(context).getFailure()
                        .hasStackTraceContaining("must be empty or the name of a ConfigMap"));
    }

    @Test
    void inAClusterTheRegistryIsFoundThroughKubernetesDiscovery() {
        client.services().inNamespace("test").resource(new ServiceBuilder()
                .withNewMetadata().withName("fabric-registry").withNamespace("test").endMetadata()
                .withNewSpec().addNewPort().withName("http").withPort(8470).endPort().endSpec()
                .build()).create();
        client.endpoints().inNamespace("test").resource(new EndpointsBuilder()
                .withNewMetadata().withName("fabric-registry").withNamespace("test").endMetadata()
                .addNewSubset().addNewAddress().withIp("10.4.0.7").endAddress()
                .addNewPort().withName("http").withPort(8470).endPort().endSubset()
                .build()).create();

        spawner.withBean(KubernetesClient.class, KubernetesConfigurationTest::newClient)
                // What a pod sees: Spring Boot takes the platform from KUBERNETES_SERVICE_HOST; here it is set.
                .withPropertyValues("spring.main.cloud-platform=kubernetes",
                        "spring.cloud.kubernetes.client.namespace=test",
                        "spring.cloud.kubernetes.discovery.namespaces=test")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    RegistryLocator locator = context.getBean(RegistryLocator.class);
                    assertThat(locator.isConfigured()).isFalse();
                    assertThat(locator.registryUrl()).isEqualTo(URI.create("http://10.4.0.7:8470"));
                });
    }

    @Test
    void configuredRegistryUrlWinsOverDiscovery() {
        spawner.withBean(KubernetesClient.class, KubernetesConfigurationTest::newClient)
                .withPropertyValues("spring.main.cloud-platform=kubernetes",
                        "spring.cloud.kubernetes.client.namespace=test",
                        "fabric.spawner.registry-url=http://registry.example:8470")
                .run(context -> assertThat(context.getBean(RegistryLocator.class).registryUrl())
                        .isEqualTo(URI.create("http://registry.example:8470")));
    }

    /** A client of its own per context: the context closes it. */
    private static KubernetesClient newClient() {
        return new KubernetesClientBuilder().withConfig(client.getConfiguration()).build();
    }
}
