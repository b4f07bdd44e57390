package dev.fabric.registry.heartbeat;

import dev.fabric.core.problem.ProblemException;
import dev.fabric.core.registry.Ids;
import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.registry.ServiceInstance;
import dev.fabric.core.registry.stream.HeartbeatSessionKey;
import dev.fabric.core.sealing.KeySealing;
import dev.fabric.core.sealing.SealingException;
import dev.fabric.registry.instance.InstanceService;
import dev.fabric.registry.instance.RegistryException;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.server.ServerHttpRequest;
import org.springframework.http.server.ServerHttpResponse;
import org.springframework.stereotype.Component;
import org.springframework.web.socket.WebSocketHandler;
import org.springframework.web.socket.server.HandshakeInterceptor;
import org.springframework.web.util.UriComponentsBuilder;

import java.io.IOException;
import java.security.KeyPair;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.Base64;
import java.util.Map;

/**
 * The opening of a heartbeat stream: {@code GET /api/v1/instances/{id}/heartbeat-stream?incarnation=N&key=K},
 * an upgrade to a WebSocket, signed with the fabric key like every request (the signature filter has
 * verified it, its target naming the id, incarnation and the member's ephemeral X25519 key {@code K},
 * before this runs). The instance must be RUNNING or SUSPECT at exactly that incarnation; the registry
 * makes its own ephemeral key, derives the session's MAC key ({@link HeartbeatSessionKey}) and keeps it
 * with the stream. A refusal is answered as the usual {@code problem+json} and no stream opens.
 */
@Component
class HeartbeatHandshake implements HandshakeInterceptor {

    static final String SESSION = HeartbeatSession.class.getName();
    private static final String PREFIX = "/api/v1/instances/";
    private static final String SUFFIX = "/heartbeat-stream";

    private final InstanceService instances;
    private final HeartbeatProperties properties;
    private final Clock clock;
    private final StreamProblems problems;
    private final SecureRandom random = new SecureRandom();

    HeartbeatHandshake(InstanceService instances, HeartbeatProperties properties, Clock clock, StreamProblems problems) {
        this.instances = instances;
        this.problems = problems;
        this.properties = properties;
        this.clock = clock;
    }

    @Override
    public boolean beforeHandshake(ServerHttpRequest request, ServerHttpResponse response, WebSocketHandler handler,
                                   Map<String, Object> attributes) throws IOException {
        try {
            attributes.put(SESSION, open(request));
            return true;
        } catch (RuntimeException failure) {
            ProblemException e = problems.of(failure);
            response.setStatusCode(HttpStatus.valueOf(e.status()));
            response.getHeaders().setContentType(MediaType.APPLICATION_PROBLEM_JSON);
            response.getBody().write(problems.document(e, request.getURI().getPath(), 0));
            return false;
        }
    }

    private HeartbeatSession open(ServerHttpRequest request) {
        String path = request.getURI().getRawPath();
        String id = path.startsWith(PREFIX) && path.endsWith(SUFFIX) ? path.substring(PREFIX.length(), path.length() - SUFFIX.length()) : "";
        if (!id.matches(Ids.PATTERN)) {
            throw invalid("'" + id + "' is not an instance id");
        }
        Map<String, String> query = UriComponentsBuilder.fromUri(request.getURI()).build().getQueryParams().toSingleValueMap();
        long incarnation = incarnation(query.get("incarnation"));
        PublicKey memberKey;
        byte[] memberSpki;
        try {
            memberSpki = Base64.getUrlDecoder().decode(query.getOrDefault("key", ""));
            memberKey = KeySealing.publicKeyFromSpki(memberSpki);
        } catch (IllegalArgumentException | SealingException e) {
            throw invalid("key must be the member's ephemeral X25519 public key, SPKI in base64url");
        }
        ServiceInstance current = instances.get(id);
        if (incarnation < current.incarnation()) {
            throw RegistryException.staleIncarnation(id, incarnation, current.incarnation());
        }
        if (incarnation > current.incarnation()) {
            throw new RegistryException(HttpStatus.CONFLICT, "unknown-incarnation", "instance '" + id + "' is at incarnation "
                    + current.incarnation() + "; register incarnation " + incarnation + " before heartbeating for it");
        }
        if (current.state() != InstanceState.RUNNING && current.state() != InstanceState.SUSPECT) {
            throw new RegistryException(HttpStatus.CONFLICT, "not-running", "instance '" + id + "' is " + current.state()
                    + "; only a RUNNING instance heartbeats");
        }
        byte[] sessionBytes = new byte[16];
        random.nextBytes(sessionBytes);
        String session = Base64.getUrlEncoder().withoutPadding().encodeToString(sessionBytes);
        KeyPair registry = KeySealing.newEphemeralKeyPair();
        byte[] registrySpki = registry.getPublic().getEncoded();
        try {
            return new HeartbeatSession(session, id, incarnation, clock.instant().plus(properties.sessionTtl()),
                    HeartbeatSessionKey.mac(registry.getPrivate(), memberKey, memberSpki, registrySpki, id, incarnation, session),
                    registrySpki);
        } catch (IllegalStateException e) {
            throw invalid("key does not agree with an X25519 key: " + e.getMessage());
        }
    }

    private static long incarnation(String value) {
        try {
            long incarnation = Long.parseLong(value == null ? "" : value);
            if (incarnation > 0) {
                return incarnation;
            }
        } catch (NumberFormatException notANumber) {
            // said below
        }
        throw new RegistryException(HttpStatus.BAD_REQUEST, "incarnation-required",
                "a heartbeat stream names its incarnation: ?incarnation=N, a whole number from 1 up");
    }

    private static RegistryException invalid(String detail) {
        return new RegistryException(HttpStatus.BAD_REQUEST, "invalid-request", detail);
    }

    @Override
    public void afterHandshake(ServerHttpRequest request, ServerHttpResponse response, WebSocketHandler handler, Exception failure) {
    }
}
