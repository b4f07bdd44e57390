package dev.fabric.cli;

import dev.fabric.core.client.FabricClient;
import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.splice.SpliceGateway;
import org.springframework.http.MediaType;
import tools.jackson.databind.JsonNode;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

/**
 * A long-lived caller of one queue member, run inside a lab host by {@link SplicedAcrossTheLabIT}: one
 * {@link FabricClient} for all its requests, so that the test sees what a client that lives on does
 * across a failed splice, an upgrade and a dropped splice. It reads commands on standard input, one a
 * line, and answers each on one line of standard output:
 *
 * <pre>
 *   put TEXT   -> ok MESSAGE-ID | PATH-KIND | PATH     (the message is on the member's disk)
 *   take       -> ok MESSAGE-ID BODY | PATH-KIND | PATH  (leased and acked)
 *   path       -> ok - | PATH-KIND | PATH
 * </pre>
 *
 * or {@code error MESSAGE}. Arguments: registry URL, key directory, queue id.
 */
public final class LabQueueClient {

    private LabQueueClient() {
    }

    public static void main(String[] args) throws Exception {
        try (FabricClient client = FabricClient.builder(URI.create(args[0]), FabricKeys.load(Path.of(args[1])))
                .name("lab-queue-client").build()) {
            String queue = args[2];
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            System.out.println("ready");
            System.out.flush();
            for (String read; (read = in.readLine()) != null; ) {
                String line = read;
                String answer;
                try {
                    answer = switch (line.split(" ", 2)[0]) {
                        case "put" -> client.call(queue, "queue", (http, url) -> http.post().uri("/messages")
                                .contentType(MediaType.APPLICATION_JSON).body(Map.of("body", line.substring(4))).retrieve()
                                .body(JsonNode.class)).path("id").asString();
                        case "take" -> {
                            JsonNode message = client.call(queue, "queue", (http, url) -> http.post().uri("/leases?max=1").retrieve()
                                    .body(JsonNode.class)).path("messages").path(0);
                            client.call(queue, "queue", (http, url) -> http.delete()
                                    .uri("/leases/{lease}", message.path("leaseId").asString()).retrieve().toBodilessEntity());
                            yield message.path("id").asString() + " " + message.path("body").asString();
                        }
                        case "path" -> "-";
                        default -> throw new IllegalArgumentException("unknown command: " + line);
                    };
                    SpliceGateway.Path path = client.splicePath(queue).orElse(null);
                    answer = "ok " + answer + " | " + (path == null ? "NONE | none" : path.kind() + " | " + path.how());
                } catch (RuntimeException e) {
                    answer = "error " + e;
                }
                System.out.println(answer.replace('\n', ' '));
                System.out.flush();
            }
        }
    }
}
