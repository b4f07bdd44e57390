package dev.fabric.spawner.launch;

import dev.fabric.core.registry.ServiceInstance;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The launcher the spawner uses: a member placed on a configured host (its spawn request named
 * one) is started there by the {@code ssh} launcher, every other member by this spawner's own
 * launcher ({@code process} or {@code kubernetes}). A member re-adopted after a restart goes back
 * to the launcher its registration names.
 */
public final class PlacingLauncher implements Launcher, AutoCloseable {

    private final Launcher local;
    private final Launcher remote;

    /**
     * @param local this spawner's own launcher
     * @param remote the launcher for members placed on a host ({@link #hosts()} names the hosts it knows)
     */
    public PlacingLauncher(Launcher local, Launcher remote) {
        this.local = local;
        this.remote = remote;
    }

    /** The spawner's own launcher's name: what a member without a placement is started by. */
    @Override
    public String name() {
        return local.name();
    }

    @Override
    public boolean startsOnThisNode(String host) {
        return host == null && local.startsOnThisNode(null);
    }

    @Override
    public LaunchedMember launch(LaunchSpec spec) {
        return spec.host() == null ? local.launch(spec) : remote.launch(spec);
    }

    @Override
    public LaunchedMember relaunch(LaunchSpec spec, ServiceInstance previous) {
        return spec.host() == null ? local.relaunch(spec, previous) : remote.relaunch(spec, previous);
    }

    @Override
    public Optional<LaunchedMember> adopt(ServiceInstance instance) {
        return placedOnHost(instance) ? remote.adopt(instance) : local.adopt(instance);
    }

    @Override
    public Optional<String> ensureGone(ServiceInstance instance, Duration grace) {
        return placedOnHost(instance) ? remote.ensureGone(instance, grace) : local.ensureGone(instance, grace);
    }

    @Override
    public Optional<String> unreachable(ServiceInstance instance) {
        return placedOnHost(instance) ? remote.unreachable(instance) : local.unreachable(instance);
    }

    @Override
    public Optional<MemberLog> logTail(ServiceInstance instance, int maxBytes) {
        return placedOnHost(instance) ? remote.logTail(instance, maxBytes) : local.logTail(instance, maxBytes);
    }

    @Override
    public void release(String serviceId) {
        local.release(serviceId);
        remote.release(serviceId);
    }

    @Override
    public Set<String> hosts() {
        return remote.hosts();
    }

    @Override
    public Map<String, String> inheritedEnvironment() {
        Map<String, String> inherited = new LinkedHashMap<>(local.inheritedEnvironment());
        inherited.putAll(remote.inheritedEnvironment());
        return inherited;
    }

    @Override
    public void close() throws Exception {
        if (remote instanceof AutoCloseable closeable) {
            closeable.close();
        }
    }

    private boolean placedOnHost(ServiceInstance instance) {
        return instance.metadata() != null && instance.metadata().get("host") != null
                && remote.name().equals(instance.metadata().get("launcher"));
    }
}
