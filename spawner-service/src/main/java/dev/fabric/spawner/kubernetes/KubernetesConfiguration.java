package dev.fabric.spawner.kubernetes;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.cloud.client.discovery.DiscoveryClient;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Profile;
import org.springframework.core.env.Environment;

import java.net.URI;
import java.util.Optional;

/**
 * The spawner's Kubernetes parts: the {@code kubernetes} launcher and its fabric8 client, only with
 * {@code fabric.spawner.launcher=kubernetes} (the {@code process} launcher is the default), and the
 * {@link RegistryLocator}.
 */
@Configuration(proxyBeanMethods = false)
@Profile("!member")
public class KubernetesConfiguration {

    private static final Logger log = LoggerFactory.getLogger(KubernetesConfiguration.class);
    /** Set from the downward API by the chart: the spawner's pod and namespace. */
    static final String POD_NAME_ENV = "FABRIC_POD_NAME";
    static final String POD_NAMESPACE_ENV = "FABRIC_POD_NAMESPACE";

    /**
     * In a cluster, Spring Cloud Kubernetes makes a client too, unless one exists: this one, from the
     * in-cluster service account or, outside a cluster, the kubeconfig.
     */
    @Bean(destroyMethod = "close")
    @ConditionalOnProperty(name = "fabric.spawner.launcher", havingValue = "kubernetes")
    @ConditionalOnMissingBean(KubernetesClient.class)
    KubernetesClient kubernetesClient() {
        return new KubernetesClientBuilder().build();
    }

    @Bean
    @ConditionalOnProperty(name = "fabric.spawner.launcher", havingValue = "kubernetes")
    KubernetesLauncher kubernetesLauncher(KubernetesClient client, KubernetesLauncherProperties settings, Environment environment) {
        String ownNamespace = firstNonBlank(environment.getProperty(POD_NAMESPACE_ENV), client.getNamespace(), "default");
        String namespace = firstNonBlank(settings.namespace(), ownNamespace);
        Optional<String> podName = Optional.ofNullable(firstNonBlank(settings.podName(), environment.getProperty(POD_NAME_ENV), ""))
                .filter(name -> !name.isBlank());
        Optional<String> dataOwner = Optional.of(settings.dataOwner()).filter(name -> !name.isBlank());
        if (podName.isPresent() && !namespace.equals(ownNamespace)) {
            // An owner reference only works within one namespace; across namespaces the garbage
            // collector would take the member for an orphan and delete it at once.
            log.warn("members go to namespace {} but the spawner pod {} is in {}: member pods get no owner reference and "
                    + "outlive this spawner", namespace, podName.get(), ownNamespace);
            podName = Optional.empty();
        }
        if (dataOwner.isPresent() && !namespace.equals(ownNamespace)) {
            log.warn("members go to namespace {}, not {} where the data owner {} is: their data claims get no owner reference",
                    namespace, ownNamespace, dataOwner.get());
            dataOwner = Optional.empty();
        }
        KubernetesLauncher launcher = new KubernetesLauncher(client, settings, namespace, podName, dataOwner);
        log.info("kubernetes launcher: members in namespace {}, image {}, owner pod {}, data {}", namespace, settings.image(),
                podName.orElse("(none)"), settings.persistentData() ? "claims of " + settings.dataSize() + " owned by "
                        + dataOwner.map(name -> "ConfigMap " + name).orElse("nothing") : "emptyDir (lost with each pod)");
        return launcher;
    }

    /** {@code fabric.spawner.registry-url} when set, else the registry Service through discovery. */
    @Bean
    RegistryLocator registryLocator(Environment environment, ObjectProvider<DiscoveryClient> discovery,
                                    KubernetesLauncherProperties settings) {
        Optional<URI> configured = Optional.ofNullable(environment.getProperty("fabric.spawner.registry-url"))
                .filter(url -> !url.isBlank())
                .map(URI::create);
        return new RegistryLocator(configured, discovery.getIfAvailable(), settings.registryService());
    }

    private static String firstNonBlank(String... values) {
        for (String value : values) {
            if (value != null && !value.isBlank()) {
                return value;
            }
        }
        return null;
    }
}
