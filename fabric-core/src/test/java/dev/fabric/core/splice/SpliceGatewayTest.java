package dev.fabric.core.splice;

import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.signature.RequestSigner;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The gateway's plumbing on loopback, with real sockets: a connection whose splice cannot even be
 * arranged (the member cannot be invited) is carried to the bridge's relay port instead, byte for byte
 * both ways, and the gateway says why. The splices themselves are SplicedAcrossTheLabIT's (fabric-cli).
 */
class SpliceGatewayTest {

    @Test
    void aConnectionWhoseSpliceFailsIsCarriedThroughTheBridgeAndTheGatewaySaysWhy() throws Exception {
        try (ServerSocket bridge = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
            Thread.ofVirtual().start(() -> {
                try (Socket relayed = bridge.accept()) {
                    byte[] line = relayed.getInputStream().readNBytes(5);
                    relayed.getOutputStream().write(("relayed " + new String(line, StandardCharsets.US_ASCII)).getBytes(StandardCharsets.US_ASCII));
                    relayed.getOutputStream().flush();
                    relayed.getInputStream().read();
                } catch (IOException ignored) {
                    // the test reads what arrived
                }
            });
            SpliceGateway.Invitation unreachable = upgrade -> {
                throw new IOException("the bridge answered 502 bridge-no-route");
            };
            Splicer splicer = new Splicer(URI.create("http://127.0.0.1:9"), new RequestSigner(FabricKeys.generate(), Clock.systemUTC()),
                    SpliceSchedule.ON_DEMAND, Clock.systemUTC());
            InetSocketAddress relay = InetSocketAddress.createUnresolved("127.0.0.1", bridge.getLocalPort());
            try (SpliceGateway gateway = SpliceGateway.open("queue-1", unreachable, splicer, relay, Duration.ofSeconds(2), Clock.systemUTC());
                 Socket client = new Socket()) {
                client.connect(gateway.proxy(), 2000);
                client.setSoTimeout(10_000);
                OutputStream out = client.getOutputStream();
                out.write("hello".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                InputStream in = client.getInputStream();

                assertThat(new String(in.readNBytes(13), StandardCharsets.US_ASCII)).isEqualTo("relayed hello");
                assertThat(gateway.path().kind()).isEqualTo(SpliceGateway.Path.Kind.RELAYED);
                assertThat(gateway.path().how()).isEqualTo("relayed through the bridge at 127.0.0.1:" + bridge.getLocalPort()
                        + " (splice failed: could not open a rendezvous or invite the member: the bridge answered 502 bridge-no-route)");
                assertThat(gateway.relayedConnections()).isEqualTo(1);
                assertThat(gateway.splicedConnections()).isZero();
                assertThat(gateway.upgrades()).isZero();
            }
        }
    }
}
