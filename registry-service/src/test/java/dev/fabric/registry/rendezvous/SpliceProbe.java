package dev.fabric.registry.rendezvous;

import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.otp.OneTimePassword;
import dev.fabric.core.signature.RequestSigner;
import dev.fabric.core.splice.BootstrapIdentity;
import dev.fabric.core.splice.Side;
import dev.fabric.core.splice.SpliceException;
import dev.fabric.core.splice.SpliceSchedule;
import dev.fabric.core.splice.SplicedConnection;
import dev.fabric.core.splice.Splicer;
import dev.fabric.registry.RegistryClient;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;

/**
 * One side of a splice, or the opener of its rendezvous, as a process inside a host of the network lab
 * ({@code SpliceAcrossNatsIT}, the splice benchmark):
 *
 * <pre>
 *   SpliceProbe open REGISTRY KEY-DIR PEER            (FABRIC_OTP: the peer's password) prints the rendezvous id
 *   SpliceProbe splice REGISTRY ID initiator KEY-DIR PATIENCE-S WINDOW-S
 *   SpliceProbe splice REGISTRY ID peer PEER PATIENCE-S WINDOW-S   (FABRIC_OTP: its password)
 * </pre>
 *
 * A splice prints {@code spliced LOCAL REMOTE OBSERVED ATTEMPTS MILLIS}, then each side sends its name over
 * the connection and prints {@code heard NAME}; or {@code failed REASON detail}.
 *
 * <p>For {@code SpliceBenchmark}:
 * <pre>
 *   SpliceProbe open-many REGISTRY KEY-DIR PEER N        N rendezvous ids, one a line (5 minutes each)
 *   SpliceProbe bench REGISTRY IDS-FILE SIDE KEY-DIR|PEER WINDOW-S BYTES
 *       splices each id in turn: "ok DIAL-MILLIS ATTEMPTS" or "failed REASON"; over the first splice the
 *       initiator sends BYTES and the peer prints "throughput MB/S"
 *   SpliceProbe sink PORT                                 receives the first connection with bytes: "throughput MB/S"
 *   SpliceProbe source HOST PORT BYTES                    sends BYTES to a sink
 * </pre>
 */
public final class SpliceProbe {

    private SpliceProbe() {
    }

    public static void main(String[] arguments) throws Exception {
        if (arguments[0].equals("sink")) {
            try (java.net.ServerSocket server = new java.net.ServerSocket(Integer.parseInt(arguments[1]))) {
                String throughput = null;
                while (throughput == null) { // a probe's empty connection does not count
                    try (java.net.Socket socket = server.accept()) {
                        throughput = receive(socket);
                    }
                }
                System.out.println("throughput " + throughput);
            }
            return;
        }
        if (arguments[0].equals("source")) {
            try (java.net.Socket socket = new java.net.Socket(arguments[1], Integer.parseInt(arguments[2]))) {
                send(socket, Long.parseLong(arguments[3]));
            }
            return;
        }
        URI registry = URI.create(arguments[1]);
        switch (arguments[0]) {
            case "open" -> {
                FabricKeys keys = FabricKeys.load(Path.of(arguments[2]));
                FabricKeys peer = BootstrapIdentity.of(otp(), arguments[3]);
                RegistryClient.Answer opened = new RegistryClient(registry.toString(), keys).post("/api/v1/rendezvous",
                        Map.of("peer", arguments[3], "peerKey", Base64.getEncoder().encodeToString(peer.publicKey().getEncoded())));
                if (opened.status() != 201) {
                    System.out.println("refused " + opened.body());
                    System.exit(1);
                }
                System.out.println(opened.body().path("id").asString());
            }
            case "splice" -> splice(registry, arguments[2], Side.fromWire(arguments[3]), arguments[4],
                    Duration.ofSeconds(Long.parseLong(arguments[5])), Duration.ofSeconds(Long.parseLong(arguments[6])));
            case "open-many" -> {
                FabricKeys keys = FabricKeys.load(Path.of(arguments[2]));
                FabricKeys peer = BootstrapIdentity.of(otp(), arguments[3]);
                RegistryClient client = new RegistryClient(registry.toString(), keys);
                for (int i = 0; i < Integer.parseInt(arguments[4]); i++) {
                    RegistryClient.Answer opened = client.post("/api/v1/rendezvous", Map.of("peer", arguments[3],
                            "peerKey", Base64.getEncoder().encodeToString(peer.publicKey().getEncoded()), "ttlSeconds", 300));
                    System.out.println(opened.body().path("id").asString());
                }
            }
            case "bench" -> bench(registry, java.nio.file.Files.readAllLines(Path.of(arguments[2])), Side.fromWire(arguments[3]),
                    arguments[4], Duration.ofSeconds(Long.parseLong(arguments[5])), Long.parseLong(arguments[6]));
            default -> throw new IllegalArgumentException("SpliceProbe open|splice|open-many|bench ...");
        }
    }

    private static void splice(URI registry, String id, Side side, String keysOrPeer, Duration patience, Duration window)
            throws Exception {
        FabricKeys keys = side == Side.INITIATOR ? FabricKeys.load(Path.of(keysOrPeer)) : BootstrapIdentity.of(otp(), keysOrPeer);
        Splicer splicer = new Splicer(registry, new RequestSigner(keys, Clock.systemUTC()),
                SpliceSchedule.DEFAULT.withPatience(patience).withWindow(window), Clock.systemUTC());
        try (SplicedConnection connection = splicer.splice(id, side)) {
            System.out.println("spliced " + text(connection.local()) + " " + text(connection.remote()) + " " + connection.observed()
                    + " " + connection.attempts() + " " + connection.elapsed().toMillis());
            PrintWriter out = new PrintWriter(connection.socket().getOutputStream(), true, StandardCharsets.UTF_8);
            out.println(side.wireName());
            connection.socket().setSoTimeout(30_000);
            String heard = new BufferedReader(new InputStreamReader(connection.socket().getInputStream(), StandardCharsets.UTF_8)).readLine();
            System.out.println("heard " + heard);
        } catch (SpliceException e) {
            System.out.println("failed " + e.reason() + " " + e.getMessage());
        }
    }

    private static void bench(URI registry, java.util.List<String> ids, Side side, String keysOrPeer, Duration window, long bytes)
            throws Exception {
        FabricKeys keys = side == Side.INITIATOR ? FabricKeys.load(Path.of(keysOrPeer)) : BootstrapIdentity.of(otp(), keysOrPeer);
        Splicer splicer = new Splicer(registry, new RequestSigner(keys, Clock.systemUTC()),
                SpliceSchedule.DEFAULT.withPatience(Duration.ofSeconds(60)).withWindow(window), Clock.systemUTC());
        boolean measured = false;
        for (String id : ids) {
            if (id.isBlank()) {
                continue;
            }
            try (SplicedConnection connection = splicer.splice(id.strip(), side)) {
                System.out.println("ok " + connection.dialing().toMillis() + " " + connection.attempts());
                if (!measured && bytes > 0) {
                    measured = true;
                    if (side == Side.INITIATOR) {
                        send(connection.socket(), bytes);
                    } else {
                        System.out.println("throughput " + receive(connection.socket()));
                    }
                }
            } catch (SpliceException e) {
                System.out.println("failed " + e.reason());
            }
            System.out.flush();
        }
    }

    private static void send(java.net.Socket socket, long bytes) throws java.io.IOException {
        byte[] block = new byte[64 * 1024];
        var out = socket.getOutputStream();
        for (long sent = 0; sent < bytes; sent += block.length) {
            out.write(block, 0, (int) Math.min(block.length, bytes - sent));
        }
        out.flush();
        socket.shutdownOutput();
        socket.getInputStream().read(); // the receiver closes once it has read everything
    }

    private static String receive(java.net.Socket socket) throws java.io.IOException {
        byte[] block = new byte[64 * 1024];
        var in = socket.getInputStream();
        long received = 0;
        long started = System.nanoTime();
        for (int n; (n = in.read(block)) >= 0; ) {
            received += n;
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        socket.close();
        if (received == 0) {
            return null;
        }
        return String.format(java.util.Locale.ROOT, "%.1f", received / 1e6 / seconds);
    }

    private static OneTimePassword otp() {
        String value = System.getenv("FABRIC_OTP");
        if (value == null) {
            throw new IllegalStateException("FABRIC_OTP is not set");
        }
        return OneTimePassword.of(value);
    }

    private static String text(java.net.InetSocketAddress address) {
        return address.getAddress().getHostAddress() + ":" + address.getPort();
    }
}
