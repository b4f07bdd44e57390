package dev.fabric.helm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import com.marcnuri.helm.Helm;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;

/**
 * The escrow pattern in the chart: an app pod with the escrow sidecar as a native sidecar (an init
 * container with restartPolicy Always), one emptyDir for the socket shared by both containers, the
 * same network namespace (one pod), probes on the sidecar, one non-root uid; and the reusable
 * "fabric.escrow.sidecar" template rendering the same container from another chart.
 */
class EscrowChartTest {

    private static final String EXAMPLE = RenderedChart.RELEASE + "-escrow-example";
    private static final Map<String, Object> ENABLED = Map.of("escrow.example.enabled", true);

    @Test
    void exampleIsOffByDefault() {
        RenderedChart chart = RenderedChart.render();

        assertThat(chart.find(Deployment.class, EXAMPLE)).isEmpty();
        assertThat(chart.objects()).noneMatch(object -> object.getMetadata().getName().contains("escrow"));
    }

    @Test
    void sidecarIsANativeSidecarThatStartsBeforeAndOutlivesTheApp() {
        PodSpec pod = examplePod(ENABLED);

        assertThat(pod.getInitContainers()).extracting(Container::getName).containsExactly("escrow-sidecar");
        assertThat(sidecar(pod).getRestartPolicy()).isEqualTo("Always");
        assertThat(pod.getContainers()).extracting(Container::getName).containsExactly("app");
        assertThat(app(pod).getRestartPolicy()).as("an app container restarts by the pod's policy").isNull();
        // One pod, so one network namespace: nothing may split the two containers apart.
        assertThat(pod.getHostNetwork()).isNotEqualTo(Boolean.TRUE);
        assertThat(sidecar(pod).getImage()).isEqualTo("fabric/escrow-sidecar:0.1.0-SNAPSHOT");
        assertThat(app(pod).getImage()).isEqualTo("fabric/escrow-echo:0.1.0-SNAPSHOT");
    }

    @Test
    void socketDirectoryIsOneEmptyDirSharedByBothContainers() {
        PodSpec pod = examplePod(ENABLED);

        Volume socket = volume(pod, "escrow-socket");
        assertThat(socket.getEmptyDir()).as("an emptyDir: it lives as long as the pod, across container restarts").isNotNull();
        assertThat(socket.getEmptyDir().getMedium()).isEqualTo("Memory");
        assertThat(socket.getEmptyDir().getSizeLimit()).isEqualTo(new Quantity("1Mi"));
        assertThat(mount(sidecar(pod), "escrow-socket").getMountPath()).isEqualTo("/run/escrow");
        assertThat(mount(app(pod), "escrow-socket").getMountPath()).isEqualTo("/run/escrow");
        assertThat(mount(sidecar(pod), "escrow-socket").getReadOnly()).isNotEqualTo(Boolean.TRUE);
        assertThat(mount(app(pod), "escrow-socket").getReadOnly()).as("connecting needs write access").isNotEqualTo(Boolean.TRUE);

        assertThat(env(sidecar(pod))).containsEntry("FABRIC_ESCROW_SOCKETPATH", "/run/escrow/escrow.sock")
                .containsEntry("FABRIC_ESCROW_NRTAGS", "32").containsEntry("SERVER_PORT", "8471")
                .doesNotContainKeys("FABRIC_ESCROW_ALLOWEDUIDS", "FABRIC_ESCROW_ALLOWEDGIDS");
        assertThat(env(app(pod))).containsEntry("ESCROW_PATH", "/run/escrow/escrow.sock");
        assertThat(app(pod).getArgs()).containsExactly("--port", "8087", "/run/escrow/escrow.sock");
    }

    @Test
    void sidecarIsProbedOnItsActuatorAndTheAppWaitsForItsSocket() {
        Container sidecar = sidecar(examplePod(ENABLED));

        assertThat(sidecar.getPorts()).singleElement().satisfies(port -> {
            assertThat(port.getName()).isEqualTo("escrow-http");
            assertThat(port.getContainerPort()).isEqualTo(8471);
        });
        // The app containers start once the sidecar's startup probe passes: when the socket accepts.
        assertHttpProbe(sidecar.getStartupProbe(), "/actuator/health/readiness");
        assertHttpProbe(sidecar.getLivenessProbe(), "/actuator/health/liveness");
        assertHttpProbe(sidecar.getReadinessProbe(), "/actuator/health/readiness");
        assertThat(sidecar.getStartupProbe().getPeriodSeconds() * sidecar.getStartupProbe().getFailureThreshold())
                .as("seconds the sidecar gets to start").isGreaterThanOrEqualTo(60);
        assertThat(sidecar.getLivenessProbe().getPeriodSeconds() * sidecar.getLivenessProbe().getFailureThreshold())
                .as("a restart loses every held descriptor: liveness gives a stuck JVM a minute").isGreaterThanOrEqualTo(60);
        // Sized from the sidecar's memory benchmark (docs/benchmarks.md): at most 60 MiB peak holding 10,000, 83 MiB at the default limits.
        assertThat(sidecar.getResources().getRequests()).containsEntry("memory", new Quantity("80Mi"));
        assertThat(sidecar.getResources().getLimits()).containsEntry("memory", new Quantity("128Mi"));
    }

    @Test
    void bothContainersRunAsOneNonRootUidWithReadOnlyRootFileSystems() {
        PodSpec pod = examplePod(ENABLED);

        PodSecurityContext podContext = pod.getSecurityContext();
        assertThat(podContext.getRunAsNonRoot()).isTrue();
        assertThat(podContext.getRunAsUser()).isEqualTo(10001L);
        assertThat(podContext.getRunAsGroup()).isEqualTo(10001L);
        assertThat(podContext.getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
        for (Container container : List.of(sidecar(pod), app(pod))) {
            SecurityContext context = container.getSecurityContext();
            assertThat(context.getRunAsUser()).as(container.getName() + ": the uid is the pod's, the same for both").isNull();
            assertThat(context.getRunAsNonRoot()).isTrue();
            assertThat(context.getReadOnlyRootFilesystem()).isTrue();
            assertThat(context.getAllowPrivilegeEscalation()).isFalse();
            assertThat(context.getCapabilities().getDrop()).containsExactly("ALL");
            assertThat(context.getCapabilities().getAdd()).isNullOrEmpty();
            assertThat(context.getPrivileged()).isNotEqualTo(Boolean.TRUE);
            assertThat(context.getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
        }
        assertThat(mount(sidecar(pod), "escrow-tmp").getMountPath()).isEqualTo("/tmp");
        assertThat(mount(app(pod), "app-tmp").getMountPath()).isEqualTo("/tmp");
        assertThat(volume(pod, "escrow-tmp").getEmptyDir()).isNotNull();
        assertThat(volume(pod, "app-tmp").getEmptyDir()).isNotNull();
        assertThat(pod.getAutomountServiceAccountToken()).isFalse();
        assertThat(pod.getEnableServiceLinks()).isFalse();
    }

    @Test
    void exampleHasAServiceForTheEchoPortAndScrapeAnnotationsForTheSidecar() {
        RenderedChart chart = RenderedChart.render(ENABLED);
        Service service = chart.get(Service.class, EXAMPLE);
        Deployment deployment = chart.get(Deployment.class, EXAMPLE);

        assertThat(service.getSpec().getSelector()).isEqualTo(deployment.getSpec().getSelector().getMatchLabels())
                .containsEntry("app.kubernetes.io/component", "escrow-example");
        assertThat(service.getSpec().getPorts()).singleElement().satisfies(port -> {
            assertThat(port.getPort()).isEqualTo(8087);
            assertThat(port.getTargetPort()).isEqualTo(new IntOrString("echo"));
        });
        assertThat(deployment.getSpec().getTemplate().getMetadata().getAnnotations())
                .containsEntry("prometheus.io/port", "8471").containsEntry("prometheus.io/path", "/actuator/prometheus");
    }

    @Test
    void sidecarValuesReachTheSidecarAndTheSharedMount() {
        Map<String, Object> values = new LinkedHashMap<>(ENABLED);
        values.put("escrow.sidecar.socketPath", "/var/run/app-escrow/e.sock");
        values.put("escrow.sidecar.nrTags", 64);
        values.put("escrow.sidecar.allowedUids[0]", 10001);
        values.put("escrow.sidecar.allowedUids[1]", 1000000);
        values.put("escrow.sidecar.allowedGids[0]", 20000);
        values.put("escrow.sidecar.httpPort", 9471);
        values.put("escrow.sidecar.verbose", true);
        values.put("escrow.sidecar.image.tag", "1.2.3");
        values.put("global.image.registry", "ghcr.io/acme");
        PodSpec pod = examplePod(values);

        assertThat(env(sidecar(pod))).containsEntry("FABRIC_ESCROW_SOCKETPATH", "/var/run/app-escrow/e.sock")
                .containsEntry("FABRIC_ESCROW_NRTAGS", "64").containsEntry("FABRIC_ESCROW_ALLOWEDUIDS", "10001,1000000")
                .containsEntry("FABRIC_ESCROW_ALLOWEDGIDS", "20000").containsEntry("FABRIC_ESCROW_VERBOSE", "true")
                .containsEntry("SERVER_PORT", "9471");
        assertThat(sidecar(pod).getPorts().getFirst().getContainerPort()).isEqualTo(9471);
        assertThat(mount(sidecar(pod), "escrow-socket").getMountPath()).isEqualTo("/var/run/app-escrow");
        assertThat(mount(app(pod), "escrow-socket").getMountPath()).isEqualTo("/var/run/app-escrow");
        assertThat(env(app(pod))).containsEntry("ESCROW_PATH", "/var/run/app-escrow/e.sock");
        assertThat(sidecar(pod).getImage()).isEqualTo("ghcr.io/acme/fabric/escrow-sidecar:1.2.3");
    }

    static Stream<Arguments> refusedValues() {
        return Stream.of(
                Arguments.of(Map.of("escrow.sidecar.nrTags", 0), "at '/escrow/sidecar/nrTags': minimum: got 0, want 1"),
                Arguments.of(Map.of("escrow.sidecar.nrTags", 40000), "at '/escrow/sidecar/nrTags': maximum: got 40,000, want 32,768"),
                Arguments.of(Map.of("escrow.sidecar.socketPath", "run/escrow.sock"), "escrow.sidecar.socketPath must be an absolute path"),
                Arguments.of(Map.of("escrow.sidecar.socketPath", "/escrow.sock"), "must be in a directory of its own"),
                Arguments.of(Map.of("escrow.sidecar.socketPath", "/run/" + "x".repeat(110) + "/e.sock"), "a UNIX socket path has at most 107"),
                Arguments.of(Map.of("escrow.sidecar.allowedUids[0]", "abc"), "at '/escrow/sidecar/allowedUids/0': 'abc' does not match pattern"),
                Arguments.of(Map.of("escrow.sidecar.allowedUids[0]", -1), "at '/escrow/sidecar/allowedUids/0': minimum: got -1, want 0"),
                Arguments.of(Map.of("escrow.sidecar.allowedUids", "10001,10002"), "at '/escrow/sidecar/allowedUids': got string, want array"),
                Arguments.of(Map.of("escrow.example.port", 8471), "the containers of a pod share its ports"));
    }

    @ParameterizedTest
    @MethodSource("refusedValues")
    void valuesThatCannotWorkFailTheRenderSayingWhy(Map<String, Object> values, String message) {
        Map<String, Object> all = new LinkedHashMap<>(ENABLED);
        all.putAll(values);
        assertThatThrownBy(() -> RenderedChart.render(all)).hasMessageContaining(message);
    }

    @Test
    void noRenderedFieldIsUnknownToTheModelWithEveryOptionalBlockOn() {
        Map<String, Object> values = new LinkedHashMap<>(ENABLED);
        values.put("escrow.sidecar.allowedUids[0]", 10001);
        values.put("escrow.sidecar.allowedGids[0]", 10001);
        values.put("escrow.sidecar.extraEnv[0].name", "ESCROW_JAVA_OPTS");
        values.put("escrow.sidecar.extraEnv[0].value", "-Xmx160m");
        values.put("escrow.sidecar.image.digest", "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
        values.put("escrow.example.podAnnotations.team", "platform");
        values.put("escrow.example.podLabels.tier", "demo");
        values.put("escrow.example.nodeSelector.disk", "ssd");
        values.put("escrow.example.tolerations[0].key", "dedicated");
        values.put("escrow.example.tolerations[0].operator", "Exists");
        values.put("global.imagePullSecrets[0].name", "regcred");
        values.put("commonAnnotations.owner", "fabric-ops");
        RenderedChart chart = RenderedChart.render(values);

        assertThat(chart.fieldsNotInModel()).as(chart.yaml()).isEmpty();
        assertThat(sidecar(chart.get(Deployment.class, EXAMPLE).getSpec().getTemplate().getSpec()).getImage())
                .isEqualTo("fabric/escrow-sidecar@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
    }

    // --- the reusable template, from another chart ---

    @Test
    void anotherChartRendersTheSameSidecarFromTheNamedTemplate(@TempDir Path dir) throws IOException {
        Path chart = userChart(dir);
        String yaml = new Helm(chart).template().withName("shop").withNamespace("shop")
                .withKubeVersion(RenderedChart.KUBE_VERSION)
                .set("fabric.escrow.sidecar.image.tag", "0.1.0").call();
        RenderedChart rendered = RenderedChart.fromYaml(yaml);

        PodSpec pod = rendered.get(Deployment.class, "shop").getSpec().getTemplate().getSpec();
        Container sidecar = sidecar(pod);
        assertThat(sidecar.getRestartPolicy()).isEqualTo("Always");
        assertThat(sidecar.getImage()).isEqualTo("fabric/escrow-sidecar:0.1.0");
        assertHttpProbe(sidecar.getStartupProbe(), "/actuator/health/readiness");
        assertThat(sidecar.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
        assertThat(sidecar.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
        Container app = pod.getContainers().getFirst();
        assertThat(mount(app, "escrow-socket").getMountPath()).isEqualTo(mount(sidecar, "escrow-socket").getMountPath())
                .isEqualTo("/run/escrow");
        assertThat(volume(pod, "escrow-socket").getEmptyDir()).isNotNull();
        assertThat(rendered.fieldsNotInModel()).as(yaml).isEmpty();
    }

    /** A chart of a user's own service with fabric as a subchart (charts/fabric), including the sidecar template. */
    private static Path userChart(Path dir) throws IOException {
        Path chart = dir.resolve("shop");
        Files.createDirectories(chart.resolve("templates"));
        Files.writeString(chart.resolve("Chart.yaml"), """
                apiVersion: v2
                name: shop
                version: 1.0.0
                appVersion: "7.0"
                dependencies:
                  - name: fabric
                    version: 0.1.0
                """);
        Files.writeString(chart.resolve("values.yaml"), """
                fabric:
                  registry:
                    enabled: false
                """);
        Files.writeString(chart.resolve("templates/deployment.yaml"), """
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: shop
                spec:
                  selector:
                    matchLabels: {app: shop}
                  template:
                    metadata:
                      labels: {app: shop}
                    spec:
                      securityContext:
                        runAsUser: 10001
                        runAsNonRoot: true
                      initContainers:
                        {{- include "fabric.escrow.sidecar" (dict "root" $ "sidecar" .Values.fabric.escrow.sidecar) | nindent 8 }}
                      containers:
                        - name: shop
                          image: acme/shop:7.0
                          env:
                            - name: ESCROW_PATH
                              value: {{ .Values.fabric.escrow.sidecar.socketPath | quote }}
                          volumeMounts:
                            {{- include "fabric.escrow.volumeMount" .Values.fabric.escrow.sidecar | nindent 12 }}
                      volumes:
                        {{- include "fabric.escrow.volumes" . | nindent 8 }}
                """);
        copy(RenderedChart.CHART, chart.resolve("charts/fabric"));
        return chart;
    }

    private static void copy(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path file : files.toList()) {
                Path target = to.resolve(from.relativize(file).toString());
                if (Files.isDirectory(file)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(file, target);
                }
            }
        }
    }

    // --- helpers ---

    private static PodSpec examplePod(Map<String, Object> values) {
        return RenderedChart.render(values).get(Deployment.class, EXAMPLE).getSpec().getTemplate().getSpec();
    }

    private static Container sidecar(PodSpec pod) {
        return pod.getInitContainers().stream().filter(c -> c.getName().equals("escrow-sidecar")).findFirst()
                .orElseThrow(() -> new AssertionError("no escrow-sidecar init container in " + pod.getInitContainers()));
    }

    private static Container app(PodSpec pod) {
        return pod.getContainers().getFirst();
    }

    private static Map<String, String> env(Container container) {
        Map<String, String> values = new LinkedHashMap<>();
        container.getEnv().forEach(variable -> values.put(variable.getName(), variable.getValue()));
        return values;
    }

    private static VolumeMount mount(Container container, String volume) {
        return container.getVolumeMounts().stream().filter(m -> m.getName().equals(volume)).findFirst()
                .orElseThrow(() -> new AssertionError("no mount of volume " + volume + " in " + container.getVolumeMounts()));
    }

    private static Volume volume(PodSpec pod, String name) {
        return pod.getVolumes().stream().filter(v -> v.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no volume " + name + " in " + pod.getVolumes()));
    }

    private static void assertHttpProbe(Probe probe, String path) {
        assertThat(probe).as(path).isNotNull();
        assertThat(probe.getHttpGet().getPath()).isEqualTo(path);
        assertThat(probe.getHttpGet().getPort()).isEqualTo(new IntOrString("escrow-http"));
    }
}
