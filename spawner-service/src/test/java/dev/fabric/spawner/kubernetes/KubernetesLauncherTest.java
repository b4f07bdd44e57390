package dev.fabric.spawner.kubernetes;

import dev.fabric.core.otp.OneTimePassword;
import dev.fabric.core.registry.Connectivity;
import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.registry.ServiceInstance;
import dev.fabric.spawner.launch.LaunchException;
import dev.fabric.spawner.launch.LaunchOutcome;
import dev.fabric.spawner.launch.LaunchSpec;
import dev.fabric.spawner.launch.LaunchedMember;
import dev.fabric.spawner.contract.MemberEnvironment;
import dev.fabric.spawner.launch.Resources;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The kubernetes launcher against fabric8's mock API server in CRUD mode: objects it creates are
 * stored and can be read back, and the test plays the kubelet by writing pod statuses.
 */
@EnableKubernetesMockClient(crud = true)
class KubernetesLauncherTest {

    private static final String SPAWNER_POD = "fabric-spawner-7d9f-abcde";
    /** What the chart names as the owner of the data claims: its spawner ConfigMap. */
    private static final String DATA_OWNER = "fabric-spawner-config";
    private static final String OTP = "otp-" + UUID.randomUUID();

    /** Set by the mock server extension before each test. */
    static KubernetesClient client;

    private final List<LaunchedMember> launched = new ArrayList<>();
    private KubernetesLauncher launcher;
    private String namespace;
    private String spawnerUid;
    private String dataOwnerUid;

    @BeforeEach
    void spawnerPodExists() {
        namespace = client.getNamespace();
        spawnerUid = client.pods().inNamespace(namespace).resource(new PodBuilder()
                .withNewMetadata().withName(SPAWNER_POD).endMetadata()
                .withNewSpec().addNewContainer().withName("spawner").withImage("fabric/spawner-service:test").endContainer().endSpec()
                .build()).create().getMetadata().getUid();
        dataOwnerUid = client.configMaps().inNamespace(namespace).resource(new ConfigMapBuilder()
                .withNewMetadata().withName(DATA_OWNER).endMetadata()
                .addToData("application.yaml", "fabric: {}")
                .build()).create().getMetadata().getUid();
        launcher = new KubernetesLauncher(client, settings(), namespace, Optional.of(SPAWNER_POD));
    }

    @AfterEach
    void endInformers() {
        // Each member's informer ends with its outcome; stop the ones a test left running.
        for (LaunchedMember member : launched) {
            member.outcome().complete(new LaunchOutcome.Stopped());
        }
        client.pods().inNamespace(namespace).delete();
        client.secrets().inNamespace(namespace).delete();
        client.persistentVolumeClaims().inNamespace(namespace).delete();
        client.configMaps().inNamespace(namespace).delete();
    }

    // --- what is created ---

    @Test
    void podCarriesTheMemberLabelsAndIsOwnedByTheSpawnerPod() {
        LaunchedMember member = launch("queue-1a2b3c4d", 3);
        Pod pod = pod(member);

        assertThat(pod.getMetadata().getName()).isEqualTo("fabric-queue-1a2b3c4d-3");
        assertThat(pod.getMetadata().getLabels()).containsAllEntriesOf(Map.of(
                "app.kubernetes.io/name", "fabric-member",
                "fabric.dev/service-id", "queue-1a2b3c4d",
                "fabric.dev/incarnation", "3",
                "fabric.dev/role", "queue",
                "fabric.dev/spawner", "spawner-0f0f0f0f"));
        assertThat(pod.getMetadata().getOwnerReferences()).singleElement().satisfies(owner -> {
            assertThat(owner.getKind()).isEqualTo("Pod");
            assertThat(owner.getName()).isEqualTo(SPAWNER_POD);
            assertThat(owner.getUid()).isNotBlank().isEqualTo(spawnerUid);
            assertThat(owner.getController()).isTrue();
        });
        assertThat(member.metadata()).containsEntry("launcher", "kubernetes")
                .containsEntry("pod", "fabric-queue-1a2b3c4d-3")
                .containsEntry("namespace", namespace);
    }

    @Test
    void podRunsTheImageInTheMemberProfileWithTheRequestedResources() {
        Pod pod = pod(launch("queue-1a2b3c4d", 1, new Resources("250m", "512Mi")));
        Container container = pod.getSpec().getContainers().getFirst();

        assertThat(pod.getSpec().getRestartPolicy()).isEqualTo("Never");
        assertThat(pod.getSpec().getServiceAccountName()).isEqualTo("fabric-member");
        assertThat(pod.getSpec().getAutomountServiceAccountToken()).isFalse();
        assertThat(container.getImage()).isEqualTo("fabric/spawner-service:test");
        assertThat(container.getImagePullPolicy()).isEqualTo("IfNotPresent");
        assertThat(container.getResources().getRequests()).containsEntry("cpu", new Quantity("250m"))
                .containsEntry("memory", new Quantity("512Mi"));
        assertThat(container.getResources().getLimits()).isEqualTo(container.getResources().getRequests());
        assertThat(container.getPorts()).singleElement().satisfies(port -> {
            assertThat(port.getName()).isEqualTo("management");
            assertThat(port.getContainerPort()).isEqualTo(8472);
        });
        assertThat(values(container)).containsEntry("SPRING_PROFILES_ACTIVE", "member")
                .containsEntry(MemberEnvironment.SERVICE_ID, "queue-1a2b3c4d")
                .containsEntry(MemberEnvironment.INCARNATION, "1")
                .containsEntry(MemberEnvironment.ROLE, "queue")
                .containsEntry(MemberEnvironment.SPAWNER_URL, "http://10.1.0.5:8472")
                .containsEntry(MemberEnvironment.REGISTRY_URL, "http://fabric-registry:8470")
                .containsEntry(MemberEnvironment.CONNECTIVITY, "DIRECT")
                .containsEntry(MemberEnvironment.MANAGEMENT_PORT, "8472");
    }

    @Test
    void podRunsWithLeastPrivilege() {
        Pod pod = pod(launch("queue-1a2b3c4d", 1));
        var container = pod.getSpec().getContainers().getFirst().getSecurityContext();

        assertThat(pod.getSpec().getSecurityContext().getRunAsNonRoot()).isTrue();
        assertThat(pod.getSpec().getSecurityContext().getRunAsUser()).isEqualTo(10001L);
        assertThat(pod.getSpec().getSecurityContext().getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
        assertThat(container.getRunAsNonRoot()).isTrue();
        assertThat(container.getReadOnlyRootFilesystem()).isTrue();
        assertThat(container.getAllowPrivilegeEscalation()).isFalse();
        assertThat(container.getCapabilities().getDrop()).containsExactly("ALL");
        assertThat(container.getPrivileged()).isNotEqualTo(Boolean.TRUE);
    }

    @Test
    void passwordReachesThePodOnlyThroughASecretKeyRef() {
        LaunchedMember member = launch("queue-1a2b3c4d", 1);
        Pod pod = pod(member);
        EnvVar otp = pod.getSpec().getContainers().getFirst().getEnv().stream()
                .filter(variable -> variable.getName().equals(MemberEnvironment.OTP)).findFirst().orElseThrow();

        assertThat(otp.getValue()).isNull();
        assertThat(otp.getValueFrom().getSecretKeyRef().getName()).isEqualTo("fabric-queue-1a2b3c4d-1-otp");
        assertThat(otp.getValueFrom().getSecretKeyRef().getKey()).isEqualTo("otp");
        assertThat(Serialization.asYaml(pod)).doesNotContain(OTP);

        Secret secret = client.secrets().inNamespace(namespace).withName("fabric-queue-1a2b3c4d-1-otp").get();
        assertThat(secretValue(secret, "otp")).isEqualTo(OTP);
        assertThat(secret.getMetadata().getLabels()).containsEntry("fabric.dev/service-id", "queue-1a2b3c4d");
        assertThat(secret.getMetadata().getOwnerReferences()).as("goes with the spawner's pod").singleElement().satisfies(owner -> {
            assertThat(owner.getKind()).isEqualTo("Pod");
            assertThat(owner.getName()).isEqualTo(SPAWNER_POD);
            assertThat(owner.getUid()).isEqualTo(spawnerUid);
        });
    }

    @Test
    void idsThatAreNoLabelValueAreShortenedButFoundExactly() {
        String id = "Queue:" + "x".repeat(80);
        LaunchedMember member = launch(id, 2);
        Pod pod = pod(member);

        assertThat(pod.getMetadata().getName()).hasSizeLessThanOrEqualTo(63).matches("[a-z0-9]([a-z0-9-]*[a-z0-9])?");
        assertThat(pod.getMetadata().getLabels().get("fabric.dev/service-id")).hasSizeLessThanOrEqualTo(63)
                .matches("[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?");
        assertThat(pod.getMetadata().getAnnotations()).containsEntry("fabric.dev/service-id", id);
        assertThat(MemberPods.labelValue(id)).isNotEqualTo(MemberPods.labelValue("Queue_" + "x".repeat(80)));
    }

    // --- what the pod's status says ---

    @Test
    void runningPodWithAnIpGivesTheManagementUrl() {
        LaunchedMember member = launch("queue-1a2b3c4d", 1);
        assertThat(member.managementUrl()).isEmpty();

        setStatus(member, new PodStatusBuilder().withPhase("Running").withPodIP("10.1.2.3")
                .addNewContainerStatus().withName("member").withNewState().withNewRunning().withStartedAt(Instant.now().toString())
                .endRunning().endState().endContainerStatus().build());

        await().atMost(10, TimeUnit.SECONDS).until(() -> member.managementUrl().isPresent());
        assertThat(member.managementUrl()).contains(URI.create("http://10.1.2.3:8472"));
        assertThat(member.outcome()).isNotDone();
    }

    @Test
    void passwordSecretGoesOnceTheContainerRuns() {
        LaunchedMember member = launch("queue-1a2b3c4d", 1);

        setStatus(member, new PodStatusBuilder().withPhase("Running").withPodIP("10.1.2.3")
                .addNewContainerStatus().withName("member").withNewState().withNewRunning().endRunning().endState().endContainerStatus()
                .build());

        await().atMost(10, TimeUnit.SECONDS).until(() ->
                client.secrets().inNamespace(namespace).withName("fabric-queue-1a2b3c4d-1-otp").get() == null);
        assertThat(pod(member)).as("the member itself goes on").isNotNull();
    }

    @Test
    void failedPodWithExitCode86HasExitedWith86() throws Exception {
        LaunchedMember member = launch("queue-1a2b3c4d", 2);

        setStatus(member, terminated("Failed", 86, "Error"));

        assertThat(member.outcome().get(10, TimeUnit.SECONDS)).isEqualTo(new LaunchOutcome.Exited(86));
        assertThat(pod(member)).as("kept for kubectl logs").isNotNull();
    }

    @Test
    void succeededPodHasExitedWith0() throws Exception {
        LaunchedMember member = launch("queue-1a2b3c4d", 1);

        setStatus(member, terminated("Succeeded", 0, "Completed"));

        assertThat(member.outcome().get(10, TimeUnit.SECONDS)).isEqualTo(new LaunchOutcome.Exited(0));
    }

    @Test
    void oomKilledContainerIsKilledBySignal9() throws Exception {
        LaunchedMember member = launch("queue-1a2b3c4d", 1);

        setStatus(member, terminated("Failed", 137, "OOMKilled"));

        assertThat(member.outcome().get(10, TimeUnit.SECONDS)).isEqualTo(new LaunchOutcome.Killed(9, "OOMKilled"));
    }

    @Test
    void imagePullBackOffFailsWithTheReasonAndRemovesThePod() throws Exception {
        LaunchedMember member = launch("queue-1a2b3c4d", 1);

        setStatus(member, new PodStatusBuilder().withPhase("Pending")
                .addNewContainerStatus().withName("member").withNewState().withNewWaiting()
                .withReason("ImagePullBackOff").withMessage("Back-off pulling image \"fabric/spawner-service:test\"")
                .endWaiting().endState().endContainerStatus().build());

        LaunchOutcome outcome = member.outcome().get(10, TimeUnit.SECONDS);
        assertThat(outcome).isInstanceOf(LaunchOutcome.Failed.class);
        assertThat(outcome.describe()).startsWith("image pull failed: ImagePullBackOff")
                .contains("Back-off pulling image \"fabric/spawner-service:test\"");
        // Left alone, the kubelet would go on pulling for ever.
        await().atMost(10, TimeUnit.SECONDS).until(() -> pod(member) == null);
    }

    @Test
    void crashLoopFails() throws Exception {
        LaunchedMember member = launch("queue-1a2b3c4d", 1);

        setStatus(member, new PodStatusBuilder().withPhase("Running")
                .addNewContainerStatus().withName("member").withNewState().withNewWaiting().withReason("CrashLoopBackOff")
                .endWaiting().endState().endContainerStatus().build());

        assertThat(member.outcome().get(10, TimeUnit.SECONDS).describe()).startsWith("crash loop");
    }

    @Test
    void podDeletedBySomeoneElseFails() throws Exception {
        LaunchedMember member = launch("queue-1a2b3c4d", 1);

        client.pods().inNamespace(namespace).withName(member.metadata().get("pod")).delete();

        assertThat(member.outcome().get(10, TimeUnit.SECONDS)).isEqualTo(new LaunchOutcome.Failed("pod deleted"));
    }

    // --- stop ---

    @Test
    void stopDeletesPodAndSecretAndEndsAsStopped() throws Exception {
        LaunchedMember member = launch("queue-1a2b3c4d", 1);
        String pod = member.metadata().get("pod");

        member.stop(Duration.ofSeconds(1));

        assertThat(client.pods().inNamespace(namespace).withName(pod).get()).isNull();
        assertThat(client.secrets().inNamespace(namespace).withName(pod + "-otp").get()).isNull();
        assertThat(member.outcome().get(10, TimeUnit.SECONDS)).isEqualTo(new LaunchOutcome.Stopped());
    }

    // --- the data claim ---

    @Test
    void firstLaunchCreatesTheDataClaimWithLabelsOwnerAndSize() {
        launch("queue-1a2b3c4d", 1);
        PersistentVolumeClaim claim = claim("fabric-queue-1a2b3c4d-data");

        assertThat(claim).as("the member's data claim").isNotNull();
        assertThat(claim.getMetadata().getLabels()).containsAllEntriesOf(Map.of(
                "app.kubernetes.io/name", "fabric-member",
                "fabric.dev/service-id", "queue-1a2b3c4d",
                "fabric.dev/spawner", "spawner-0f0f0f0f"))
                .as("one claim for every incarnation").doesNotContainKey("fabric.dev/incarnation");
        assertThat(claim.getMetadata().getAnnotations()).containsEntry("fabric.dev/service-id", "queue-1a2b3c4d");
        assertThat(claim.getMetadata().getOwnerReferences()).as("owned by what outlives spawner pods").singleElement()
                .satisfies(owner -> {
                    assertThat(owner.getKind()).isEqualTo("ConfigMap");
                    assertThat(owner.getName()).isEqualTo(DATA_OWNER);
                    assertThat(owner.getUid()).isNotBlank().isEqualTo(dataOwnerUid);
                    assertThat(owner.getController()).isFalse();
                });
        assertThat(claim.getSpec().getAccessModes()).containsExactly("ReadWriteOnce");
        assertThat(claim.getSpec().getResources().getRequests()).containsEntry("storage", new Quantity("1Gi"));
        assertThat(claim.getSpec().getStorageClassName()).as("the cluster's default class").isNull();
    }

    @Test
    void claimSizeAndStorageClassComeFromTheSettings() {
        KubernetesLauncher sized = new KubernetesLauncher(client, settings(true, "20Gi", "fast-ssd"), namespace,
                Optional.of(SPAWNER_POD));
        launched.add(sized.launch(spec("queue-1a2b3c4d", 1, Resources.DEFAULT)));
        PersistentVolumeClaim claim = claim("fabric-queue-1a2b3c4d-data");

        assertThat(claim.getSpec().getResources().getRequests()).containsEntry("storage", new Quantity("20Gi"));
        assertThat(claim.getSpec().getStorageClassName()).isEqualTo("fast-ssd");
    }

    @Test
    void podMountsTheClaimAtTheDataDirectoryWritableByTheMember() {
        Pod pod = pod(launch("queue-1a2b3c4d", 1));
        Container container = pod.getSpec().getContainers().getFirst();

        assertThat(dataVolume(pod).getPersistentVolumeClaim().getClaimName()).isEqualTo("fabric-queue-1a2b3c4d-data");
        assertThat(dataVolume(pod).getEmptyDir()).isNull();
        VolumeMount mount = container.getVolumeMounts().stream().filter(m -> m.getName().equals("data")).findFirst().orElseThrow();
        assertThat(mount.getMountPath()).isEqualTo(values(container).get(MemberEnvironment.DATA_DIR)).isEqualTo("/var/lib/fabric");
        assertThat(mount.getReadOnly()).isNotEqualTo(Boolean.TRUE);
        // The image's user and group (docker/spawner-service.Dockerfile): the volume's files are the member's.
        assertThat(pod.getSpec().getSecurityContext().getFsGroup()).isEqualTo(10001L);
        assertThat(pod.getSpec().getSecurityContext().getRunAsGroup()).isEqualTo(10001L);
        assertThat(pod.getSpec().getSecurityContext().getFsGroupChangePolicy()).isEqualTo("OnRootMismatch");
    }

    @Test
    void nextIncarnationReusesTheClaim() {
        LaunchedMember first = launch("queue-1a2b3c4d", 1);
        setStatus(first, terminated("Failed", 137, "Error"));
        PersistentVolumeClaim before = claim("fabric-queue-1a2b3c4d-data");

        LaunchedMember second = launch("queue-1a2b3c4d", 2);

        PersistentVolumeClaim after = claim("fabric-queue-1a2b3c4d-data");
        assertThat(after.getMetadata().getUid()).as("the same claim, not a new one").isEqualTo(before.getMetadata().getUid());
        assertThat(after.getMetadata().getResourceVersion()).as("left as it was").isEqualTo(before.getMetadata().getResourceVersion());
        assertThat(dataVolume(pod(second)).getPersistentVolumeClaim().getClaimName()).isEqualTo("fabric-queue-1a2b3c4d-data");
        assertThat(client.persistentVolumeClaims().inNamespace(namespace).list().getItems()).hasSize(1);
    }

    @Test
    void stoppingAnIncarnationKeepsTheClaimAndReleaseDeletesIt() {
        LaunchedMember member = launch("queue-1a2b3c4d", 1);
        launch("queue-99999999", 1);

        member.stop(Duration.ofSeconds(1));
        assertThat(claim("fabric-queue-1a2b3c4d-data")).as("a stopped incarnation may be followed by another").isNotNull();

        launcher.release("queue-1a2b3c4d");

        assertThat(claim("fabric-queue-1a2b3c4d-data")).as("stopped on request or LOST: its data goes").isNull();
        assertThat(claim("fabric-queue-99999999-data")).as("another member's stays").isNotNull();
        launcher.release("queue-1a2b3c4d"); // again: nothing left, nothing fails
    }

    @Test
    void releaseLeavesAClaimOfTheSameNameThatIsNotTheMembers() {
        client.persistentVolumeClaims().inNamespace(namespace).resource(new PersistentVolumeClaimBuilder()
                .withNewMetadata().withName("fabric-queue-1a2b3c4d-data").endMetadata()
                .withNewSpec().withAccessModes("ReadWriteOnce").withNewResources()
                .addToRequests("storage", new Quantity("1Gi")).endResources().endSpec()
                .build()).create();

        launcher.release("queue-1a2b3c4d");
        assertThat(claim("fabric-queue-1a2b3c4d-data")).isNotNull();
        assertThatThrownBy(() -> launcher.launch(spec("queue-1a2b3c4d", 1, Resources.DEFAULT)))
                .isInstanceOf(LaunchException.class)
                .hasMessageContaining("is not the data claim of member queue-1a2b3c4d");
    }

    @Test
    void aClaimMissingAtALaterIncarnationIsCreatedAgain() {
        launch("queue-1a2b3c4d", 1);
        client.persistentVolumeClaims().inNamespace(namespace).withName("fabric-queue-1a2b3c4d-data").delete();

        launch("queue-1a2b3c4d", 2);

        assertThat(claim("fabric-queue-1a2b3c4d-data")).as("empty: the member finds no state and says so").isNotNull();
    }

    @Test
    void withoutPersistentDataTheDataDirectoryIsAnEmptyDirAndNoClaim() {
        KubernetesLauncher ephemeral = new KubernetesLauncher(client, settings(false, "1Gi", ""), namespace, Optional.of(SPAWNER_POD));
        LaunchedMember member = ephemeral.launch(spec("queue-1a2b3c4d", 1, Resources.DEFAULT));
        launched.add(member);

        assertThat(dataVolume(pod(member)).getEmptyDir()).isNotNull();
        assertThat(dataVolume(pod(member)).getPersistentVolumeClaim()).isNull();
        assertThat(client.persistentVolumeClaims().inNamespace(namespace).list().getItems()).isEmpty();
        ephemeral.release("queue-1a2b3c4d");
    }

    @Test
    void unknownDataOwnerFailsTheLaunchSayingWhy() {
        KubernetesLauncher wrong = new KubernetesLauncher(client, settings(), namespace, Optional.of(SPAWNER_POD),
                Optional.of("no-such-config"));

        assertThatThrownBy(() -> wrong.launch(spec("queue-1a2b3c4d", 1, Resources.DEFAULT)))
                .isInstanceOf(LaunchException.class)
                .hasMessageContaining("the ConfigMap no-such-config (fabric.spawner.kubernetes.data-owner");
        assertThat(client.pods().inNamespace(namespace).withLabel("app.kubernetes.io/name", "fabric-member").list().getItems()).isEmpty();
        assertThat(client.persistentVolumeClaims().inNamespace(namespace).list().getItems()).isEmpty();
    }

    @Test
    void withoutADataOwnerTheClaimHasNoOwner() {
        KubernetesLauncher unowned = new KubernetesLauncher(client, settings(), namespace, Optional.of(SPAWNER_POD), Optional.empty());
        launched.add(unowned.launch(spec("queue-1a2b3c4d", 1, Resources.DEFAULT)));

        assertThat(claim("fabric-queue-1a2b3c4d-data").getMetadata().getOwnerReferences()).isEmpty();
    }

    @Test
    void claimNamesAreDnsLabelsForAnyId() {
        String id = "Queue:" + "x".repeat(80);

        assertThat(MemberPods.dataClaimName(id)).hasSizeLessThanOrEqualTo(63).matches("[a-z0-9]([a-z0-9-]*[a-z0-9])?")
                .endsWith("-data").isNotEqualTo(MemberPods.dataClaimName("Queue_" + "x".repeat(80)));
    }

    // --- restarts and adoption ---

    @Test
    void nextIncarnationRemovesAPreviousOneThatStillRuns() {
        LaunchedMember first = launch("queue-1a2b3c4d", 1);
        setStatus(first, new PodStatusBuilder().withPhase("Running").withPodIP("10.1.2.3").build());

        LaunchedMember second = launch("queue-1a2b3c4d", 2);

        assertThat(client.pods().inNamespace(namespace).withName("fabric-queue-1a2b3c4d-1").get()).isNull();
        assertThat(pod(second)).isNotNull();
    }

    @Test
    void adoptFindsTheRunningPodFromTheRecordedMetadata() throws Exception {
        LaunchedMember original = launch("queue-1a2b3c4d", 4);
        setStatus(original, new PodStatusBuilder().withPhase("Running").withPodIP("10.1.2.4").build());
        KubernetesLauncher restarted = new KubernetesLauncher(client, settings(), namespace, Optional.of(SPAWNER_POD));

        Optional<LaunchedMember> adopted = restarted.adopt(instance("queue-1a2b3c4d", 4, original.metadata()));

        assertThat(adopted).isPresent();
        adopted.ifPresent(launched::add);
        assertThat(adopted.get().incarnation()).isEqualTo(4);
        await().atMost(10, TimeUnit.SECONDS).until(() -> adopted.get().managementUrl().isPresent());
        assertThat(adopted.get().managementUrl()).contains(URI.create("http://10.1.2.4:8472"));

        setStatus(original, terminated("Failed", 1, "Error"));
        assertThat(adopted.get().outcome().get(10, TimeUnit.SECONDS)).isEqualTo(new LaunchOutcome.Exited(1));
    }

    @Test
    void adoptFindsThePodByItsLabelsWithoutMetadata() {
        LaunchedMember original = launch("queue-1a2b3c4d", 2);
        setStatus(original, new PodStatusBuilder().withPhase("Running").build());

        Optional<LaunchedMember> adopted = launcher.adopt(instance("queue-1a2b3c4d", 2, Map.of()));

        adopted.ifPresent(launched::add);
        assertThat(adopted).map(LaunchedMember::metadata).hasValueSatisfying(metadata ->
                assertThat(metadata).containsEntry("pod", "fabric-queue-1a2b3c4d-2"));
    }

    @Test
    void adoptRefusesAnEndedPodAndAnotherIncarnation() {
        LaunchedMember ended = launch("queue-1a2b3c4d", 5);
        setStatus(ended, terminated("Failed", 137, "Error"));

        assertThat(launcher.adopt(instance("queue-1a2b3c4d", 5, ended.metadata()))).isEmpty();
        assertThat(launcher.adopt(instance("queue-1a2b3c4d", 6, Map.of()))).isEmpty();
        assertThat(launcher.adopt(instance("queue-00000000", 1, Map.of("pod", "fabric-queue-00000000-1")))).isEmpty();
    }

    // --- configuration faults ---

    @Test
    void missingImageIsRefusedSayingWhatToSet() {
        KubernetesLauncherProperties noImage = new KubernetesLauncherProperties("", "", "IfNotPresent", List.of(), "", "", 8472,
                "fabric-registry", Duration.ofSeconds(5), true, "1Gi", "", "");

        assertThatThrownBy(() -> new KubernetesLauncher(client, noImage, namespace, Optional.empty()))
                .hasMessageContaining("fabric.spawner.kubernetes.image is required");
    }

    @Test
    void unknownSpawnerPodFailsTheLaunchSayingWhy() {
        KubernetesLauncher wrong = new KubernetesLauncher(client, settings(), namespace, Optional.of("not-the-spawner"));

        assertThatThrownBy(() -> wrong.launch(spec("queue-1a2b3c4d", 1, Resources.DEFAULT)))
                .isInstanceOf(LaunchException.class)
                .hasMessageContaining("the spawner's own pod not-the-spawner is not in namespace " + namespace);
        assertThat(client.pods().inNamespace(namespace).withLabel("app.kubernetes.io/name", "fabric-member").list().getItems()).isEmpty();
    }

    @Test
    void withoutASpawnerPodMembersHaveNoOwner() {
        KubernetesLauncher outside = new KubernetesLauncher(client, settings(), namespace, Optional.empty());
        LaunchedMember member = outside.launch(spec("queue-1a2b3c4d", 1, Resources.DEFAULT));
        launched.add(member);

        assertThat(pod(member).getMetadata().getOwnerReferences()).isEmpty();
    }

    // --- helpers ---

    private static KubernetesLauncherProperties settings() {
        return settings(true, "1Gi", "");
    }

    private static KubernetesLauncherProperties settings(boolean persistentData, String dataSize, String storageClass) {
        return new KubernetesLauncherProperties("", "fabric/spawner-service:test", "IfNotPresent", List.of(), "fabric-member", "",
                8472, "fabric-registry", Duration.ofSeconds(5), persistentData, dataSize, storageClass, DATA_OWNER);
    }

    private LaunchedMember launch(String id, long incarnation) {
        return launch(id, incarnation, Resources.DEFAULT);
    }

    private LaunchedMember launch(String id, long incarnation, Resources resources) {
        LaunchedMember member = launcher.launch(spec(id, incarnation, resources));
        launched.add(member);
        return member;
    }

    private static LaunchSpec spec(String id, long incarnation, Resources resources) {
        Map<String, String> environment = new HashMap<>();
        environment.put(MemberEnvironment.SERVICE_ID, id);
        environment.put(MemberEnvironment.INCARNATION, Long.toString(incarnation));
        environment.put(MemberEnvironment.ROLE, "queue");
        environment.put(MemberEnvironment.SPAWNER_URL, "http://10.1.0.5:8472");
        environment.put(MemberEnvironment.SPAWNER_ID, "spawner-0f0f0f0f");
        environment.put(MemberEnvironment.REGISTRY_URL, "http://fabric-registry:8470");
        environment.put(MemberEnvironment.CONNECTIVITY, Connectivity.DIRECT.name());
        return new LaunchSpec(id, incarnation, "queue", Connectivity.DIRECT, resources, environment, OneTimePassword.of(OTP));
    }

    private ServiceInstance instance(String id, long incarnation, Map<String, String> metadata) {
        return new ServiceInstance(id, "queue", null, InstanceState.RUNNING, null, incarnation, "spawner-0f0f0f0f",
                Connectivity.DIRECT, Map.of(), metadata, Instant.now(), Instant.now(), Instant.now());
    }

    private Pod pod(LaunchedMember member) {
        return client.pods().inNamespace(namespace).withName(member.metadata().get("pod")).get();
    }

    private PersistentVolumeClaim claim(String name) {
        return client.persistentVolumeClaims().inNamespace(namespace).withName(name).get();
    }

    private static Volume dataVolume(Pod pod) {
        return pod.getSpec().getVolumes().stream().filter(volume -> volume.getName().equals("data")).findFirst().orElseThrow();
    }

    /** Plays the kubelet: writes the pod's status as it would. */
    private void setStatus(LaunchedMember member, PodStatus status) {
        client.pods().inNamespace(namespace).withName(member.metadata().get("pod"))
                .editStatus(pod -> new PodBuilder(pod).withStatus(status).build());
    }

    private static PodStatus terminated(String phase, int exitCode, String reason) {
        return new PodStatusBuilder().withPhase(phase).withPodIP("10.1.2.3")
                .addNewContainerStatus().withName("member").withNewState().withNewTerminated()
                .withExitCode(exitCode).withReason(reason).endTerminated().endState().endContainerStatus()
                .build();
    }

    private static Map<String, String> values(Container container) {
        Map<String, String> values = new HashMap<>();
        container.getEnv().stream().filter(variable -> variable.getValue() != null)
                .forEach(variable -> values.put(variable.getName(), variable.getValue()));
        return values;
    }

    /** A Secret value as the API server keeps it (data, base64) or as it was written (stringData). */
    private static String secretValue(Secret secret, String key) {
        if (secret.getData() != null && secret.getData().containsKey(key)) {
            return new String(Base64.getDecoder().decode(secret.getData().get(key)), StandardCharsets.UTF_8);
        }
        return secret.getStringData() == null ? null : secret.getStringData().get(key);
    }
}
