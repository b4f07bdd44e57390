package dev.fabric.testsupport;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;

/**
 * A small TCP tool run inside the lab's hosts ({@code java -cp test-support.jar dev.fabric.testsupport.LabTcp ...})
 * to show what a NAT does to connections, independent of the fabric:
 *
 * <ul>
 *   <li>{@code observe PORT}: accepts connections and answers each with the address and port it came from,
 *       as a broker observes them;</li>
 *   <li>{@code ask LOCAL-PORT HOST PORT}: connects from that local port to an observer and prints
 *       {@code observed ADDRESS:PORT};</li>
 *   <li>{@code splice LOCAL-PORT HOST PORT SECONDS}: dials the peer from the local port again and again
 *       (every 200 ms) until a connection opens, the peer's SYN crossing its own (TCP simultaneous
 *       open), and prints {@code spliced LOCAL REMOTE}, or {@code failed LAST-ERROR} after SECONDS.</li>
 * </ul>
 */
public final class LabTcp {

    private LabTcp() {
    }

    public static void main(String[] arguments) throws IOException, InterruptedException {
        PrintStream out = System.out;
        switch (arguments.length > 0 ? arguments[0] : "") {
            case "observe" -> observe(Integer.parseInt(arguments[1]));
            case "ask" -> out.println("observed " + ask(Integer.parseInt(arguments[1]), arguments[2], Integer.parseInt(arguments[3])));
            case "splice" -> out.println(splice(Integer.parseInt(arguments[1]), new InetSocketAddress(arguments[2],
                    Integer.parseInt(arguments[3])), Duration.ofSeconds(Long.parseLong(arguments[4]))));
            default -> {
                System.err.println("usage: LabTcp observe PORT | ask LOCAL-PORT HOST PORT | splice LOCAL-PORT HOST PORT SECONDS");
                System.exit(2);
            }
        }
    }

    private static void observe(int port) throws IOException {
        try (ServerSocket server = new ServerSocket()) {
            server.setReuseAddress(true);
            server.bind(new InetSocketAddress(port));
            while (true) {
                Socket socket = server.accept();
                Thread.ofVirtual().start(() -> {
                    try (socket; PrintWriter writer = new PrintWriter(socket.getOutputStream(), true, StandardCharsets.UTF_8)) {
                        InetSocketAddress peer = (InetSocketAddress) socket.getRemoteSocketAddress();
                        writer.println(peer.getAddress().getHostAddress() + ":" + peer.getPort());
                    } catch (IOException ignored) {
                        // the asker went away: nothing to tell
                    }
                });
            }
        }
    }

    private static String ask(int localPort, String host, int port) throws IOException {
        try (Socket socket = boundSocket(localPort)) {
            socket.connect(new InetSocketAddress(host, port), 5_000);
            return new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8)).readLine();
        }
    }

    private static String splice(int localPort, InetSocketAddress peer, Duration patience) throws InterruptedException {
        Instant deadline = Instant.now().plus(patience);
        String last = "no attempt";
        while (Instant.now().isBefore(deadline)) {
            try (Socket socket = boundSocket(localPort)) {
                socket.connect(peer, 1_000);
                return "spliced " + address(socket.getLocalSocketAddress()) + " " + address(socket.getRemoteSocketAddress());
            } catch (SocketTimeoutException e) {
                last = "timeout";
            } catch (IOException e) {
                last = e.getMessage();
                Thread.sleep(200);
            }
        }
        return "failed " + last;
    }

    private static Socket boundSocket(int localPort) throws IOException {
        Socket socket = new Socket();
        socket.setReuseAddress(true);
        socket.setOption(StandardSocketOptions.SO_REUSEPORT, true);
        socket.bind(new InetSocketAddress(localPort));
        return socket;
    }

    private static String address(java.net.SocketAddress address) {
        InetSocketAddress inet = (InetSocketAddress) address;
        return inet.getAddress().getHostAddress() + ":" + inet.getPort();
    }
}
