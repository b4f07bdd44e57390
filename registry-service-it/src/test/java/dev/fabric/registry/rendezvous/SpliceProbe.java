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
 * ({@code SpliceAcrossNatsIT}; spawner-service's {@code SpliceBenchmark} has a probe of its own, with the relay):
 *
 * <pre>
 *   SpliceProbe open REGISTRY KEY-DIR PEER            (FABRIC_OTP: the peer's password) prints the rendezvous id
 *   SpliceProbe splice REGISTRY ID initiator KEY-DIR PATIENCE-S WINDOW-S
 *   SpliceProbe splice REGISTRY ID peer PEER PATIENCE-S WINDOW-S   (FABRIC_OTP: its password)
 * </pre>
 *
 * A splice prints {@code spliced LOCAL REMOTE OBSERVED ATTEMPTS MILLIS}, then each side sends its name over
 * the connection and prints {@code heard NAME}; or {@code failed REASON detail}.
 */
public final class SpliceProbe {

    private SpliceProbe() {
    }

    public static void main(String[] arguments) throws Exception {
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
            default -> throw new IllegalArgumentException("SpliceProbe open|splice ...");
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
