package dev.fabric.spawner.launch.ssh;

import dev.fabric.spawner.launch.LaunchException;
import dev.fabric.spawner.launch.LaunchOutcome;
import dev.fabric.spawner.launch.LaunchedMember;
import org.apache.sshd.client.channel.ChannelExec;
import org.apache.sshd.client.channel.ClientChannelEvent;
import org.apache.sshd.client.session.ClientSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.time.Duration;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A member on a host. While the SSH channel that started it is open, the channel's exit status or
 * signal is how it ended; once the channel is gone (the member was adopted after a spawner restart,
 * or the connection broke) the host is asked every {@code liveness-interval} with {@code kill -0}
 * whether the pid still runs this member.
 */
final class SshMember implements LaunchedMember {

    private static final Logger log = LoggerFactory.getLogger(SshMember.class);

    private final String serviceId;
    private final long incarnation;
    private final RemoteHost host;
    private final long pid;
    private final String logFile;
    private final URI managementUrl;
    private final Duration livenessInterval;
    private final CompletableFuture<LaunchOutcome> outcome = new CompletableFuture<>();

    SshMember(String serviceId, long incarnation, RemoteHost host, long pid, String logFile, URI managementUrl,
              Duration livenessInterval) {
        this.serviceId = serviceId;
        this.incarnation = incarnation;
        this.host = host;
        this.pid = pid;
        this.logFile = logFile;
        this.managementUrl = managementUrl;
        this.livenessInterval = livenessInterval;
    }

    /** Watches the channel that started the member; the session ends with it. */
    SshMember watch(ClientSession session, ChannelExec channel) {
        Thread.ofVirtual().name("ssh-" + serviceId + "-" + incarnation).start(() -> {
            channel.waitFor(EnumSet.of(ClientChannelEvent.CLOSED), 0L);
            String signal = channel.getExitSignal();
            Integer status = channel.getExitStatus();
            RemoteHost.closeQuietly(session);
            if (signal != null) {
                outcome.complete(new LaunchOutcome.Killed(RemoteCommands.signalNumber(signal), "SIG" + signal + " on host " + host.name));
            } else if (status != null) {
                outcome.complete(outcomeOf(status, host.name));
            } else if (!outcome.isDone() && host.isOpen()) {
                log.warn("member {} incarnation {}: the SSH channel to host {} closed without an exit status; watching pid {} "
                        + "with kill -0 instead", serviceId, incarnation, host.name, pid);
                poll();
            }
        });
        return this;
    }

    /**
     * A shell or JVM that dies of signal N reports exit status 128 + N (a JVM ends so on SIGTERM after
     * its shutdown hooks): read as the signal, as the process launcher does.
     */
    static LaunchOutcome outcomeOf(int status, String hostName) {
        if (status > 128 && status <= 128 + 64) {
            return new LaunchOutcome.Killed(status - 128, "exit status " + status + " on host " + hostName);
        }
        return new LaunchOutcome.Exited(status);
    }

    /** Watches the pid over new sessions until the host answers that it no longer runs this member ({@link Liveness#GONE}). */
    SshMember poll() {
        Thread.ofVirtual().name("ssh-poll-" + serviceId + "-" + incarnation).start(() -> {
            boolean warned = false;
            while (!outcome.isDone() && host.isOpen()) {
                Liveness.Answer answer = Liveness.probe(host, pid, serviceId);
                switch (answer.liveness()) {
                    case GONE -> {
                        outcome.complete(new LaunchOutcome.Vanished());
                        return;
                    }
                    case RUNS -> warned = false;
                    case UNKNOWN -> {
                        // No answer is no proof of death (a slow or unreachable host): the registry's heartbeats decide that.
                        if (!warned) {
                            log.warn("member {} on host {}: cannot check pid {}: {}", serviceId, host.name, pid, answer.why());
                            warned = true;
                        }
                    }
                }
                try {
                    Thread.sleep(livenessInterval);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        return this;
    }

    @Override
    public String serviceId() {
        return serviceId;
    }

    @Override
    public long incarnation() {
        return incarnation;
    }

    @Override
    public Map<String, String> metadata() {
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("launcher", "ssh");
        metadata.put("host", host.name);
        metadata.put("pid", Long.toString(pid));
        metadata.put("log", logFile);
        return metadata;
    }

    @Override
    public Optional<URI> managementUrl() {
        return Optional.ofNullable(managementUrl);
    }

    @Override
    public CompletableFuture<LaunchOutcome> outcome() {
        return outcome;
    }

    /**
     * {@code kill -TERM}, up to {@code grace} for it to end, then {@code kill -KILL}. A host that
     * cannot be reached leaves the member as it is (logged): a stale incarnation exits on its first
     * heartbeat the registry refuses.
     */
    @Override
    public void stop(Duration grace) {
        if (outcome.isDone()) {
            return;
        }
        try {
            host.run(RemoteCommands.signal(pid, serviceId, "TERM"));
            if (endedWithin(grace)) {
                return;
            }
            log.warn("member {} (pid {} on host {}) did not stop within {}; killing it", serviceId, pid, host.name, grace);
            host.run(RemoteCommands.signal(pid, serviceId, "KILL"));
            if (!endedWithin(grace.plus(livenessInterval).plus(livenessInterval))) {
                log.warn("member {} (pid {} on host {}) still shows no end after kill -KILL", serviceId, pid, host.name);
            }
        } catch (LaunchException e) {
            log.warn("member {}: cannot stop pid {} on host {}: {}", serviceId, pid, host.name, e.getMessage());
        }
    }

    private boolean endedWithin(Duration wait) {
        try {
            outcome.get(wait.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException | ExecutionException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
