package dev.fabric.registry.bench;

import io.etcd.jetcd.Client;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * etcd (Debian's {@code etcd-server}) as a child process on loopback, a single member with its data in
 * a temporary directory: the peer the heartbeat benchmark compares against. Installs the package
 * when it is missing and this runs as root; otherwise says how to.
 */
final class EtcdPeer implements AutoCloseable {

    static final Path BINARY = Path.of("/usr/bin/etcd");

    final String url;
    private final Process process;

    private EtcdPeer(String url, Process process) {
        this.url = url;
        this.process = process;
    }

    /** Starts etcd on {@code clientPort} (and {@code clientPort + 1} for its peer URL). */
    static EtcdPeer start(Path dir, int clientPort) throws Exception {
        installIfMissing();
        String client = "http://127.0.0.1:" + clientPort;
        String peer = "http://127.0.0.1:" + (clientPort + 1);
        Path log = dir.resolve("etcd.log");
        Process process = new ProcessBuilder(List.of(BINARY.toString(), "--name", "bench", "--data-dir", dir.resolve("etcd").toString(),
                "--listen-client-urls", client, "--advertise-client-urls", client, "--listen-peer-urls", peer,
                "--initial-advertise-peer-urls", peer, "--initial-cluster", "bench=" + peer, "--log-level", "warn"))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        EtcdPeer etcd = new EtcdPeer(client, process);
        try (Client probe = Client.builder().endpoints(client).build()) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (true) {
                try {
                    probe.getLeaseClient().grant(5).get(2, TimeUnit.SECONDS);
                    return etcd;
                } catch (Exception notYet) {
                    if (!process.isAlive() || System.nanoTime() > deadline) {
                        etcd.close();
                        throw new IllegalStateException("etcd did not start on " + client + "; log: " + Files.readString(log), notYet);
                    }
                    Thread.sleep(200);
                }
            }
        }
    }

    private static void installIfMissing() throws IOException, InterruptedException {
        if (Files.isExecutable(BINARY)) {
            return;
        }
        Process apt = new ProcessBuilder("apt-get", "install", "-y", "etcd-server").inheritIO().start();
        if (!apt.waitFor(5, TimeUnit.MINUTES) || apt.exitValue() != 0 || !Files.isExecutable(BINARY)) {
            throw new IllegalStateException("etcd is not installed and 'apt-get install -y etcd-server' failed: install Debian's "
                    + "etcd-server (as root: apt-get update && apt-get install -y etcd-server) to run this benchmark");
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
