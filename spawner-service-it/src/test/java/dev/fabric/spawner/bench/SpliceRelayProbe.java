package dev.fabric.spawner.bench;

import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.otp.OneTimePassword;
import dev.fabric.core.signature.RequestSigner;
import dev.fabric.core.splice.BootstrapIdentity;
import dev.fabric.core.splice.Side;
import dev.fabric.core.splice.SpliceException;
import dev.fabric.core.splice.SpliceSchedule;
import dev.fabric.core.splice.SplicedConnection;
import dev.fabric.core.splice.Splicer;
import dev.fabric.core.spring.FabricRestClients;
import dev.fabric.spawner.reach.Circuit;
import dev.fabric.spawner.reach.SpliceOrRelay;
import org.springframework.http.MediaType;
import org.springframework.web.client.RestClient;
import tools.jackson.databind.JsonNode;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * One side of {@link SpliceBenchmark}, as a process inside a host of the network lab:
 *
 * <pre>
 *   open-many REGISTRY KEY-DIR PEER N         N rendezvous for PEER (FABRIC_OTP: its password), one id a line
 *   spawn-bridge SPAWNER KEY-DIR PORT HOST    asks the spawner for a bridge whose relay port is HOST:PORT; prints its id
 *   connect REGISTRY IDS-FILE SIDE KEY-DIR|PEER WINDOW-S PARALLEL VIA
 *       connects each rendezvous as mode 4 does ({@link SpliceOrRelay}: a splice, else a circuit through the
 *       bridge VIA), PARALLEL at a time, and proves each connection with a line each way; one line per id, in order:
 *       "spliced MS DIAL-MS ATTEMPTS", "relayed MS", or "failed REASON ..." (MS: from this side's first join to the
 *       open connection; DIAL-MS: from the start the registry gave)
 *   splice-transfer REGISTRY ID SIDE KEY-DIR|PEER BYTES      one splice, no fallback; the initiator sends BYTES
 *   circuit-transfer VIA ID SIDE KEY-DIR|- BYTES             one circuit through the bridge; the initiator sends BYTES
 *   sink PORT BYTES / source HOST PORT BYTES                 a direct connection
 * </pre>
 *
 * The receiving side of a transfer prints {@code throughput MB/S} (10^6 bytes a second, from its first byte
 * to its last) and closes; the sender waits for that close.
 */
public final class SpliceRelayProbe {

    private static final int BLOCK = 64 * 1024;
    private static final Duration CIRCUIT_WAIT = Duration.ofSeconds(30);

    private SpliceRelayProbe() {
    }

    public static void main(String[] arguments) throws Exception {
        switch (arguments[0]) {
            case "open-many" -> openMany(URI.create(arguments[1]), Path.of(arguments[2]), arguments[3], Integer.parseInt(arguments[4]));
            case "spawn-bridge" -> spawnBridge(arguments[1], Path.of(arguments[2]), arguments[3], arguments[4]);
            case "connect" -> connect(URI.create(arguments[1]), Files.readAllLines(Path.of(arguments[2])), Side.fromWire(arguments[3]),
                    arguments[4], Duration.ofSeconds(Long.parseLong(arguments[5])), Integer.parseInt(arguments[6]),
                    URI.create(arguments[7]));
            case "splice-transfer" -> {
                Side side = Side.fromWire(arguments[3]);
                Splicer splicer = new Splicer(URI.create(arguments[1]), new RequestSigner(keys(side, arguments[4]), Clock.systemUTC()),
                        SpliceSchedule.DEFAULT.withPatience(Duration.ofSeconds(60)), Clock.systemUTC());
                try (SplicedConnection connection = splicer.splice(arguments[2], side)) {
                    transfer(connection.socket(), side == Side.INITIATOR, Long.parseLong(arguments[5]));
                }
            }
            case "circuit-transfer" -> {
                Side side = Side.fromWire(arguments[3]);
                FabricKeys keys = side == Side.INITIATOR ? FabricKeys.load(Path.of(arguments[4])) : null;
                try (Socket circuit = Circuit.open(URI.create(arguments[1]), arguments[2], keys, CIRCUIT_WAIT)) {
                    transfer(circuit, side == Side.INITIATOR, Long.parseLong(arguments[5]));
                }
            }
            case "sink" -> {
                try (ServerSocket server = new ServerSocket(Integer.parseInt(arguments[1]))) {
                    while (true) {
                        try (Socket socket = server.accept()) {
                            transfer(socket, false, Long.parseLong(arguments[2]));
                            break;
                        } catch (EmptyException probe) {
                            // a probe's connection, that a server listens: not the transfer
                        }
                    }
                }
            }
            case "source" -> {
                try (Socket socket = new Socket(arguments[1], Integer.parseInt(arguments[2]))) {
                    transfer(socket, true, Long.parseLong(arguments[3]));
                }
            }
            default -> throw new IllegalArgumentException("SpliceRelayProbe open-many|spawn-bridge|connect|splice-transfer|"
                    + "circuit-transfer|sink|source ...");
        }
    }

    private static void openMany(URI registry, Path keyDir, String peer, int count) {
        FabricKeys peerKeys = BootstrapIdentity.of(otp(), peer);
        RestClient client = signed(registry.toString(), FabricKeys.load(keyDir));
        for (int i = 0; i < count; i++) {
            JsonNode opened = client.post().uri("/api/v1/rendezvous").contentType(MediaType.APPLICATION_JSON)
                    .body(Map.of("peer", peer, "peerKey", Base64.getEncoder().encodeToString(peerKeys.publicKey().getEncoded()),
                            "ttlSeconds", 3600)).retrieve().body(JsonNode.class);
            System.out.println(opened.path("id").asString());
        }
    }

    private static void spawnBridge(String spawner, Path keyDir, String port, String host) {
        JsonNode spawned = signed(spawner, FabricKeys.load(keyDir)).post().uri("/api/v1/spawns").contentType(MediaType.APPLICATION_JSON)
                .body(Map.of("type", "bridge", "config", Map.of("port", port, "address", "0.0.0.0", "host", host,
                        "max-circuit-bytes", "256MB"))).retrieve().body(JsonNode.class);
        System.out.println(spawned.path("id").asString());
    }

    private static void connect(URI registry, List<String> lines, Side side, String keysOrPeer, Duration window, int parallel, URI via)
            throws Exception {
        FabricKeys keys = keys(side, keysOrPeer);
        Splicer splicer = new Splicer(registry, new RequestSigner(keys, Clock.systemUTC()),
                SpliceSchedule.DEFAULT.withPatience(Duration.ofSeconds(60)).withWindow(window), Clock.systemUTC());
        FabricKeys circuitKeys = side == Side.INITIATOR ? keys : null;
        List<String> ids = lines.stream().map(String::strip).filter(id -> !id.isEmpty()).toList();
        try (ExecutorService attempts = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int from = 0; from < ids.size(); from += parallel) {
                List<Future<String>> batch = new ArrayList<>();
                for (String id : ids.subList(from, Math.min(ids.size(), from + parallel))) {
                    batch.add(attempts.submit(() -> attempt(splicer, id, side, via, circuitKeys)));
                }
                for (Future<String> outcome : batch) {
                    System.out.println(outcome.get());
                }
                System.out.flush();
            }
        }
    }

    /** One rendezvous, as mode 4 connects it, proven by a line each way. */
    private static String attempt(Splicer splicer, String id, Side side, URI via, FabricKeys circuitKeys) {
        long started = System.nanoTime();
        SpliceOrRelay.Connection connection;
        try {
            connection = SpliceOrRelay.connect(() -> splicer.splice(id, side), via, id, circuitKeys, () -> CIRCUIT_WAIT);
        } catch (SpliceException e) {
            return "failed " + e.reason() + " " + e.getMessage();
        } catch (SpliceOrRelay.RelayFailedException e) {
            return "failed relay " + e.getMessage();
        }
        long millis = (System.nanoTime() - started) / 1_000_000;
        try (Socket socket = connection.socket()) {
            socket.setSoTimeout(30_000);
            OutputStream out = socket.getOutputStream();
            out.write((side.wireName() + "\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            String heard = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8)).readLine();
            String other = side == Side.INITIATOR ? Side.PEER.wireName() : Side.INITIATOR.wireName();
            if (!other.equals(heard)) {
                return "failed unproven: heard " + heard + " over the " + (connection.relayed() ? "circuit" : "splice");
            }
        } catch (IOException e) {
            return "failed unproven: " + e + " over the " + (connection.relayed() ? "circuit" : "splice");
        }
        return connection.relayed() ? "relayed " + millis
                : "spliced " + millis + " " + connection.spliced().dialing().toMillis() + " " + connection.spliced().attempts();
    }

    /** Sends {@code bytes} (the sender) or reads them and prints the throughput (the receiver), then both end. */
    static void transfer(Socket socket, boolean sender, long bytes) throws IOException {
        byte[] block = new byte[BLOCK];
        if (sender) {
            OutputStream out = socket.getOutputStream();
            for (long sent = 0; sent < bytes; sent += block.length) {
                out.write(block, 0, (int) Math.min(block.length, bytes - sent));
            }
            out.flush();
            socket.setSoTimeout(120_000);
            socket.getInputStream().read(); // the receiver closes once it has read everything
            return;
        }
        InputStream in = socket.getInputStream();
        long received = 0;
        long first = 0;
        while (received < bytes) {
            int n = in.read(block, 0, (int) Math.min(block.length, bytes - received));
            if (n < 0) {
                throw received == 0 ? new EmptyException() : new IOException("the connection ended after " + received + " of " + bytes + " bytes");
            }
            if (received == 0) {
                first = System.nanoTime();
            }
            received += n;
        }
        double seconds = (System.nanoTime() - first) / 1e9;
        socket.close();
        System.out.println(String.format(Locale.ROOT, "throughput %.1f", received / 1e6 / seconds));
    }

    /** A connection that ended before its first byte. */
    static final class EmptyException extends IOException {
        EmptyException() {
            super("the connection ended before its first byte");
        }
    }

    private static RestClient signed(String baseUrl, FabricKeys keys) {
        return FabricRestClients.signed(keys, Duration.ofSeconds(5), null).baseUrl(baseUrl).build();
    }

    private static FabricKeys keys(Side side, String keysOrPeer) {
        return side == Side.INITIATOR ? FabricKeys.load(Path.of(keysOrPeer)) : BootstrapIdentity.of(otp(), keysOrPeer);
    }

    private static OneTimePassword otp() {
        String value = System.getenv("FABRIC_OTP");
        if (value == null) {
            throw new IllegalStateException("FABRIC_OTP is not set");
        }
        return OneTimePassword.of(value);
    }
}
