package dev.fabric.registry.rendezvous;

import dev.fabric.core.keys.Ed25519;
import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.problem.ProblemAnswer;
import dev.fabric.core.registry.Ids;
import dev.fabric.core.signature.KeyResolver;
import dev.fabric.core.signature.ReceiverAuthorities;
import dev.fabric.core.signature.ReplayCache;
import dev.fabric.core.signature.SignatureRejectedException;
import dev.fabric.core.signature.SignatureVerifier;
import dev.fabric.core.signature.VerificationPolicy;
import dev.fabric.core.spring.FabricSecurityProperties;
import dev.fabric.core.spring.SignatureAuthenticationFilter;
import dev.fabric.core.splice.RendezvousWire;
import dev.fabric.core.splice.Side;
import dev.fabric.registry.instance.RegistryException;
import io.swagger.v3.oas.annotations.Operation;
import jakarta.servlet.http.HttpServletRequest;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.time.Clock;
import java.util.Base64;
import java.util.Map;
import java.util.TreeMap;

/**
 * The registry as the broker of TCP splices (connectivity mode 4, docs/connectivity.md): a side that
 * holds the fabric key opens a rendezvous for a peer; both sides join it, signed, from the port they
 * will dial from, and learn each other's public address and port as this registry observed them.
 *
 * <p>Joins are on {@code /rendezvous/v1/**}, a path the fabric-key filter leaves alone: a member during
 * its bootstrap has no fabric key yet and signs with its {@code BootstrapIdentity}, whose public key
 * its spawner gave when opening the rendezvous. This controller verifies every join itself, with the
 * same checks (RFC 9421, skew window, nonce spent once), against the one key that side may use.
 */
@RestController
public class RendezvousController {

    private static final int MAX_JOIN_BODY = 1024;

    private final RendezvousService rendezvous;
    private final SignatureVerifier fabricVerifier;
    private final VerificationPolicy policy;
    private final ReplayCache replayCache;
    private final Clock clock;
    private final ReceiverAuthorities authorities;

    public RendezvousController(RendezvousService rendezvous, SignatureVerifier fabricVerifier,
                                FabricSecurityProperties security, Clock clock, ReceiverAuthorities authorities) {
        this.rendezvous = rendezvous;
        this.fabricVerifier = fabricVerifier;
        this.policy = new VerificationPolicy(security.signature().skew(), security.signature().maxHeaderBytes(), null);
        this.replayCache = new ReplayCache(security.signature().replayCacheCapacity(), clock);
        this.clock = clock;
        this.authorities = authorities;
    }

    @Operation(summary = "Open a rendezvous for a splice with a peer (signed with the fabric key)")
    @ProblemAnswer(status = 400, reasons = {"bad-peer", "bad-peer-key", "bad-ttl"})
    @ProblemAnswer(status = 503, reasons = "rendezvous-full")
    @PostMapping("/api/v1/rendezvous")
    @ResponseStatus(HttpStatus.CREATED)
    public RendezvousWire.Opened open(@RequestBody RendezvousWire.Open request) {
        if (request.peer() == null || !request.peer().matches(Ids.PATTERN)) {
            throw RendezvousRefusal.badRequest("bad-peer", "peer must be a fabric id (" + Ids.MESSAGE + "), not '" + request.peer() + "'");
        }
        return rendezvous.open(request.peer(), peerKey(request.peerKey()), rendezvous.ttl(request.ttlSeconds()));
    }

    @Operation(summary = "The sides of a rendezvous that have joined, and the address each joined from (signed with the fabric key)")
    @ProblemAnswer(status = 404, reasons = "rendezvous-unknown")
    @ProblemAnswer(status = 410, reasons = "rendezvous-expired")
    @GetMapping("/api/v1/rendezvous/{id}")
    public Map<String, String> sides(@PathVariable String id) {
        Map<String, String> sides = new TreeMap<>();
        rendezvous.observed(id).forEach((side, address) -> sides.put(side.wireName(), address));
        return sides;
    }

    @Operation(summary = "Join a rendezvous as one side, from the port the side will dial from; repeat until READY",
            description = "Signed with the fabric key, or by a peer the rendezvous names a key for, with that key "
                    + "(a member's bootstrap identity). Answers this side's public address and port as observed, "
                    + "and once both have joined the other's and when to start dialing.")
    @ProblemAnswer(status = 400, reasons = {"bad-side", "bad-join"})
    @ProblemAnswer(status = 401, reasons = {"unsigned", "malformed-signature", "header-too-large", "unsupported-algorithm", "incomplete-signature", "unknown-key", "bad-signature", "wrong-authority", "digest-mismatch", "expired", "replayed"}, when = "the join's signature, checked against its side's key")
    @ProblemAnswer(status = 404, reasons = "rendezvous-unknown")
    @ProblemAnswer(status = 409, reasons = "rendezvous-side-taken")
    @ProblemAnswer(status = 410, reasons = {"rendezvous-expired", "rendezvous-used"})
    @ProblemAnswer(status = 503, reasons = "replay-cache-full")
    @PostMapping("/rendezvous/v1/{id}/{side}")
    public RendezvousWire.Joined join(@PathVariable String id, @PathVariable String side, HttpServletRequest request)
            throws IOException {
        Side joining;
        try {
            joining = Side.fromWire(side);
        } catch (IllegalArgumentException e) {
            throw RendezvousRefusal.badRequest("bad-side", e.getMessage());
        }
        Rendezvous found = rendezvous.find(id);
        byte[] body = request.getInputStream().readNBytes(MAX_JOIN_BODY + 1);
        if (body.length > MAX_JOIN_BODY) {
            throw RendezvousRefusal.badRequest("bad-join", "a join has no body");
        }
        SignatureVerifier verifier = joining == Side.PEER && found.peerKey().isPresent()
                ? new SignatureVerifier(KeyResolver.of(Map.of(FabricKeys.keyIdOf(found.peerKey().get()), found.peerKey().get())),
                        policy, replayCache, clock, authorities)
                : fabricVerifier;
        try {
            verifier.verify(SignatureAuthenticationFilter.view(request), body);
        } catch (SignatureRejectedException e) {
            rendezvous.count("unsigned-join");
            throw new RegistryException(HttpStatus.valueOf(e.rejection().status()), e.rejection().code(),
                    "the " + joining.wireName() + " of rendezvous '" + id + "' must sign its join with "
                            + (verifier == fabricVerifier ? "the fabric key" : "the key its opener named") + ": " + e.getMessage());
        }
        return rendezvous.join(id, joining, address(request));
    }

    private static String address(HttpServletRequest request) {
        String host = request.getRemoteAddr();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + request.getRemotePort();
    }

    private static PublicKey peerKey(String base64) {
        if (base64 == null || base64.isBlank()) {
            return null;
        }
        try {
            return Ed25519.publicKey(Base64.getDecoder().decode(base64));
        } catch (IllegalArgumentException | GeneralSecurityException e) {
            throw RendezvousRefusal.badRequest("bad-peer-key", "peerKey must be an Ed25519 public key, base64 SPKI: " + e.getMessage());
        }
    }
}
